// Portions of this file follow git's xdiff library: xdiff/xmerge.c
// (LibXDiff, Copyright (C) 2003-2006 Davide Libenzi, Johannes E. Schindelin;
// GNU LGPL v2.1 or later). They are reimplemented in Go; see NOTICE.

package revert

import "bytes"

// This file is the three-way line merge of git's xdiff (xdl_merge): diff the
// base against each side, walk both edit scripts, take non-overlapping hunks
// from whichever side made them and mark overlapping or touching hunks as
// conflicts unless both sides made the identical change; then, as git's
// default "zealous" level does, re-diff the two sides of each conflict and
// keep only the parts that really differ.

// mergeLevel selects how hard conflicts are narrowed down.
type mergeLevel int

const (
	// levelZealous is what merge-ort (and so git revert) uses.
	levelZealous mergeLevel = iota
	// levelZealousAlnum also folds conflicts separated only by lines
	// without letters or digits; `git merge-file` uses it.
	levelZealousAlnum
)

const (
	hunkConflict  = 0
	hunkOurs      = 1
	hunkTheirs    = 2
	hunkIdentical = 4 // a conflict whose sides turned out to be equal
)

// mergeHunk is a region of the merge: base lines [i0, i0+chg0) became
// ours [i1, i1+chg1) and theirs [i2, i2+chg2) (0-based).
type mergeHunk struct {
	mode                         int
	i0, chg0, i1, chg1, i2, chg2 int
	// origin is the conflict as first found, before it was narrowed down;
	// it is what a diff3-style conflict view shows.
	origin *mergeHunk
}

// mergeInput holds the three versions of a file, split into lines.
type mergeInput struct {
	base, ours, theirs [][]byte
	baseIDs            []int
	oursIDs            []int
	theirsIDs          []int
}

// splitLines splits data after every '\n'; a last line without one is kept.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i+1])
		data = data[i+1:]
	}
	return lines
}

func newMergeInput(base, ours, theirs []byte) *mergeInput {
	in := &mergeInput{base: splitLines(base), ours: splitLines(ours), theirs: splitLines(theirs)}
	intern := make(map[string]int)
	ids := func(lines [][]byte) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := intern[string(l)]
			if !ok {
				id = len(intern)
				intern[string(l)] = id
			}
			out[i] = id
		}
		return out
	}
	in.baseIDs, in.oursIDs, in.theirsIDs = ids(in.base), ids(in.ours), ids(in.theirs)
	return in
}

// mergeOutcome is the result of a three-way line merge.
type mergeOutcome struct {
	clean  []byte       // the merged content when there is no conflict
	hunks  []*mergeHunk // the conflicts that remain, as first found
	nConfl int          // number of conflict regions, as git counts them
}

// merge3 merges ours and theirs, both derived from base.
func merge3(base, ours, theirs []byte, alg diffAlgorithm, level mergeLevel) mergeOutcome {
	in := newMergeInput(base, ours, theirs)
	script1 := diffIDs(alg, in.baseIDs, in.oursIDs)
	script2 := diffIDs(alg, in.baseIDs, in.theirsIDs)
	if len(script1) == 0 {
		return mergeOutcome{clean: theirs}
	}
	if len(script2) == 0 {
		return mergeOutcome{clean: ours}
	}
	hunks := collectHunks(in, script1, script2)
	hunks = refineConflicts(in, hunks, alg)
	hunks = simplifyNonConflicts(in, hunks, level == levelZealousAlnum)

	var out mergeOutcome
	seen := make(map[*mergeHunk]bool)
	for _, h := range hunks {
		if h.mode != hunkConflict {
			continue
		}
		out.nConfl++
		if !seen[h.origin] {
			seen[h.origin] = true
			out.hunks = append(out.hunks, h.origin)
		}
	}
	if out.nConfl == 0 {
		out.clean = fillMergeBuffer(in, hunks)
	}
	return out
}

// collectHunks walks both edit scripts in base order (xdl_do_merge).
func collectHunks(in *mergeInput, x1, x2 []edit) []*mergeHunk {
	var hunks []*mergeHunk
	add := func(mode, i0, chg0, i1, chg1, i2, chg2 int) {
		if n := len(hunks); n > 0 {
			m := hunks[n-1]
			if i1 <= m.i1+m.chg1 || i2 <= m.i2+m.chg2 {
				if mode != m.mode {
					m.mode = hunkConflict
				}
				m.chg0 = i0 + chg0 - m.i0
				m.chg1 = i1 + chg1 - m.i1
				m.chg2 = i2 + chg2 - m.i2
				return
			}
		}
		hunks = append(hunks, &mergeHunk{mode: mode, i0: i0, chg0: chg0, i1: i1, chg1: chg1, i2: i2, chg2: chg2})
	}
	sameLines := func(i1, i2, n int) bool {
		for k := 0; k < n; k++ {
			if in.oursIDs[i1+k] != in.theirsIDs[i2+k] {
				return false
			}
		}
		return true
	}

	p, q := 0, 0
	for p < len(x1) && q < len(x2) {
		a, b := x1[p], x2[q]
		if a.i1+a.chg1 < b.i1 {
			add(hunkOurs, a.i1, a.chg1, a.i2, a.chg2, b.i2-b.i1+a.i1, a.chg1)
			p++
			continue
		}
		if b.i1+b.chg1 < a.i1 {
			add(hunkTheirs, b.i1, b.chg1, a.i2-a.i1+b.i1, b.chg1, b.i2, b.chg2)
			q++
			continue
		}
		if a.i1 != b.i1 || a.chg1 != b.chg1 || a.chg2 != b.chg2 || !sameLines(a.i2, b.i2, a.chg2) {
			off := a.i1 - b.i1
			ffo := off + a.chg1 - b.chg1
			i0, i1, i2 := a.i1, a.i2, b.i2
			if off > 0 {
				i0 -= off
				i1 -= off
			} else {
				i2 += off
			}
			chg0 := a.i1 + a.chg1 - i0
			chg1 := a.i2 + a.chg2 - i1
			chg2 := b.i2 + b.chg2 - i2
			if ffo < 0 {
				chg0 -= ffo
				chg1 -= ffo
			} else {
				chg2 += ffo
			}
			add(hunkConflict, i0, chg0, i1, chg1, i2, chg2)
		}
		end1, end2 := a.i1+a.chg1, b.i1+b.chg1
		if end1 >= end2 {
			q++
		}
		if end2 >= end1 {
			p++
		}
	}
	delta2 := len(in.theirs) - len(in.base)
	for ; p < len(x1); p++ {
		a := x1[p]
		add(hunkOurs, a.i1, a.chg1, a.i2, a.chg2, a.i1+delta2, a.chg1)
	}
	delta1 := len(in.ours) - len(in.base)
	for ; q < len(x2); q++ {
		b := x2[q]
		add(hunkTheirs, b.i1, b.chg1, b.i1+delta1, b.chg1, b.i2, b.chg2)
	}
	for _, h := range hunks {
		if h.mode == hunkConflict {
			first := *h
			h.origin = &first
		}
	}
	return hunks
}

// refineConflicts diffs the two sides of each conflict against each other
// and keeps as conflicts only the parts that differ (xdl_refine_conflicts).
func refineConflicts(in *mergeInput, hunks []*mergeHunk, alg diffAlgorithm) []*mergeHunk {
	out := make([]*mergeHunk, 0, len(hunks))
	for _, m := range hunks {
		if m.mode != hunkConflict || m.chg1 == 0 || m.chg2 == 0 {
			out = append(out, m)
			continue
		}
		script := diffIDs(alg, in.oursIDs[m.i1:m.i1+m.chg1], in.theirsIDs[m.i2:m.i2+m.chg2])
		if len(script) == 0 {
			m.mode = hunkIdentical
			out = append(out, m)
			continue
		}
		for _, x := range script {
			out = append(out, &mergeHunk{
				mode: hunkConflict,
				i0:   m.i0, chg0: m.chg0,
				i1: x.i1 + m.i1, chg1: x.chg1,
				i2: x.i2 + m.i2, chg2: x.chg2,
				origin: m.origin,
			})
		}
	}
	return out
}

// simplifyNonConflicts folds conflicts separated by at most three lines
// (or, with noAlnum, by lines without letters or digits) into one.
func simplifyNonConflicts(in *mergeInput, hunks []*mergeHunk, noAlnum bool) []*mergeHunk {
	if len(hunks) == 0 {
		return hunks
	}
	out := []*mergeHunk{hunks[0]}
	for _, next := range hunks[1:] {
		m := out[len(out)-1]
		begin, end := m.i1+m.chg1, next.i1
		if m.mode != hunkConflict || next.mode != hunkConflict ||
			(end-begin > 3 && (!noAlnum || linesContainAlnum(in.ours[begin:end]))) {
			out = append(out, next)
			continue
		}
		m.chg1 = next.i1 + next.chg1 - m.i1
		m.chg2 = next.i2 + next.chg2 - m.i2
		if next.origin != m.origin {
			// The folded conflict spans both original conflicts.
			m.origin = &mergeHunk{
				mode: hunkConflict,
				i0:   m.origin.i0, chg0: next.origin.i0 + next.origin.chg0 - m.origin.i0,
				i1: m.origin.i1, chg1: next.origin.i1 + next.origin.chg1 - m.origin.i1,
				i2: m.origin.i2, chg2: next.origin.i2 + next.origin.chg2 - m.origin.i2,
			}
		}
	}
	return out
}

func linesContainAlnum(lines [][]byte) bool {
	for _, l := range lines {
		for _, c := range l {
			if ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
				return true
			}
		}
	}
	return false
}

// fillMergeBuffer writes the merged file of a conflict-free merge.
func fillMergeBuffer(in *mergeInput, hunks []*mergeHunk) []byte {
	var buf bytes.Buffer
	copyLines := func(lines [][]byte, from, n int) {
		for k := 0; k < n; k++ {
			buf.Write(lines[from+k])
		}
	}
	i := 0
	for _, m := range hunks {
		switch m.mode {
		case hunkOurs:
			copyLines(in.ours, i, m.i1+m.chg1-i)
		case hunkTheirs:
			copyLines(in.theirs, m.i2-m.i1+i, m.i1+m.chg2-i)
		default:
			// Identical on both sides: it is copied from ours with the
			// next region.
			continue
		}
		i = m.i1 + m.chg1
	}
	copyLines(in.ours, i, len(in.ours)-i)
	return buf.Bytes()
}
