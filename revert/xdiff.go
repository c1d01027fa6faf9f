// Portions of this file follow git's xdiff library: xdiff/xhistogram.c
// (Copyright (C) 2010, Google Inc. and other copyright owners as documented in
// JGit's IP log; Eclipse Distribution License v1.0, BSD-3-Clause) and
// xdiff/xdiffi.c (LibXDiff, Copyright (C) 2003 Davide Libenzi; GNU LGPL v2.1
// or later). They are reimplemented in Go; see NOTICE.

package revert

// This file computes line diffs the way git's xdiff library does, because a
// revert is only "what git revert would produce" if the three-way merge below
// sees exactly the same hunks as git: a different (even equally minimal) diff
// can turn a clean merge into a conflict or change where an insertion lands.
// git's merge-ort uses the histogram algorithm, which falls back to the
// classic Myers algorithm (with xdiff's heuristics) on regions where every
// common line is too frequent; both are reproduced here, followed by xdiff's
// change compaction (sliding change groups so that they line up with the
// other file's groups). The indent heuristic is not used by merges and is
// left out.
//
// Lines are compared byte for byte, line terminator included, so "a\r\n",
// "a\n" and a final "a" without newline are three different lines, as in git.

// diffAlgorithm selects the xdiff algorithm.
type diffAlgorithm int

const (
	algorithmHistogram diffAlgorithm = iota // merge-ort's algorithm
	algorithmMyers                          // xdiff's default, used by `git merge-file`
)

// lineFile is one side of a diff: its lines as interned ids and which of
// them are changed. changed carries a false sentinel before the first and
// after the last line, as xdiff's rchg array does, so group walks need no
// bounds checks.
type lineFile struct {
	ids     []int
	changed []bool
}

func newLineFile(ids []int) *lineFile {
	return &lineFile{ids: ids, changed: make([]bool, len(ids)+2)}
}

func (f *lineFile) n() int               { return len(f.ids) }
func (f *lineFile) isChanged(i int) bool { return f.changed[i+1] }
func (f *lineFile) mark(i int, v bool)   { f.changed[i+1] = v }
func (f *lineFile) markRange(from, n int) { // from is 0-based
	for k := 0; k < n; k++ {
		f.mark(from+k, true)
	}
}

// edit is one hunk of an edit script: lines [i1, i1+chg1) of the first file
// are replaced by lines [i2, i2+chg2) of the second (0-based).
type edit struct {
	i1, i2, chg1, chg2 int
}

// diffIDs returns the edit script from a to b, compacted as xdiff does.
func diffIDs(alg diffAlgorithm, a, b []int) []edit {
	fa, fb := newLineFile(a), newLineFile(b)
	switch alg {
	case algorithmHistogram:
		newHistogram(fa, fb).diff(1, fa.n(), 1, fb.n())
	default:
		classicDiff(fa, fb, 0, fa.n(), 0, fb.n())
	}
	compact(fa, fb)
	compact(fb, fa)
	return buildScript(fa, fb)
}

// buildScript collects the runs of changed lines into hunks.
func buildScript(a, b *lineFile) []edit {
	var rev []edit
	for i1, i2 := a.n(), b.n(); i1 >= 0 || i2 >= 0; i1, i2 = i1-1, i2-1 {
		if changedAt(a, i1-1) || changedAt(b, i2-1) {
			l1, l2 := i1, i2
			for changedAt(a, i1-1) {
				i1--
			}
			for changedAt(b, i2-1) {
				i2--
			}
			rev = append(rev, edit{i1: i1, i2: i2, chg1: l1 - i1, chg2: l2 - i2})
		}
	}
	script := make([]edit, len(rev))
	for k, e := range rev {
		script[len(rev)-1-k] = e
	}
	return script
}

// changedAt is isChanged that tolerates indexes past the sentinels, which
// the script walk reaches when one file is exhausted before the other.
func changedAt(f *lineFile, i int) bool {
	if i < -1 || i > f.n() {
		return false
	}
	return f.isChanged(i)
}

// ---- histogram diff (xdiff/xhistogram.c) ----

// maxChainLength bounds how often a line may occur in the first file's
// region for the histogram algorithm to anchor on it; regions whose common
// lines are all more frequent go to the classic algorithm.
const maxChainLength = 64

type histogram struct {
	a, b *lineFile
	// Scratch space reused by every findLCS of one diff; recOf is indexed
	// by line id and cleared after each use.
	recOf    []int32      // line id -> 1 + index into recs, 0 if unseen
	recs     []histRecord // distinct lines of the indexed region
	lineMap  []int32      // line - ptrShift -> index into recs
	nextPtrs []int        // next occurrence of the same line, 0 if none
}

func newHistogram(a, b *lineFile) *histogram {
	maxID := -1
	for _, ids := range [][]int{a.ids, b.ids} {
		for _, id := range ids {
			maxID = max(maxID, id)
		}
	}
	return &histogram{
		a: a, b: b,
		recOf:    make([]int32, maxID+1),
		lineMap:  make([]int32, a.n()),
		nextPtrs: make([]int, a.n()),
	}
}

// histRecord is one distinct line of the indexed region: its first
// occurrence (1-based) and its number of occurrences.
type histRecord struct {
	ptr, cnt int
}

// histIndex is the state of one findLCS.
type histIndex struct {
	ptrShift  int
	cnt       int
	hasCommon bool
}

type region struct {
	begin1, end1, begin2, end2 int
}

// diff marks the changed lines between a's lines [line1, line1+count1) and
// b's lines [line2, line2+count2), 1-based as in xdiff.
func (h *histogram) diff(line1, count1, line2, count2 int) {
	for {
		if count1 <= 0 && count2 <= 0 {
			return
		}
		if count1 == 0 {
			h.b.markRange(line2-1, count2)
			return
		}
		if count2 == 0 {
			h.a.markRange(line1-1, count1)
			return
		}
		lcs, fallBack := h.findLCS(line1, count1, line2, count2)
		if fallBack {
			classicDiff(h.a, h.b, line1-1, count1, line2-1, count2)
			return
		}
		if lcs.begin1 == 0 && lcs.begin2 == 0 {
			h.a.markRange(line1-1, count1)
			h.b.markRange(line2-1, count2)
			return
		}
		h.diff(line1, lcs.begin1-line1, line2, lcs.begin2-line2)
		end1, end2 := line1+count1-1, line2+count2-1
		count1, line1 = end1-lcs.end1, lcs.end1+1
		count2, line2 = end2-lcs.end2, lcs.end2+1
	}
}

// findLCS finds the longest common run anchored on the least frequent common
// line. fallBack reports that every common line is too frequent.
func (h *histogram) findLCS(line1, count1, line2, count2 int) (lcs region, fallBack bool) {
	idx := &histIndex{ptrShift: line1}
	end1 := line1 + count1 - 1
	h.recs = h.recs[:0]
	clear(h.nextPtrs[:count1])
	for ptr := end1; ptr >= line1; ptr-- {
		id := h.a.ids[ptr-1]
		if r := h.recOf[id]; r != 0 {
			rec := &h.recs[r-1]
			h.nextPtrs[ptr-line1] = rec.ptr
			rec.ptr = ptr
			rec.cnt++
			h.lineMap[ptr-line1] = r - 1
			continue
		}
		h.recs = append(h.recs, histRecord{ptr: ptr, cnt: 1})
		h.recOf[id] = int32(len(h.recs))
		h.lineMap[ptr-line1] = int32(len(h.recs) - 1)
	}
	defer func() {
		for ptr := line1; ptr <= end1; ptr++ {
			h.recOf[h.a.ids[ptr-1]] = 0
		}
	}()

	idx.cnt = maxChainLength + 1
	for bPtr := line2; bPtr <= line2+count2-1; {
		bPtr = h.tryLCS(idx, &lcs, bPtr, line1, count1, line2, count2)
	}
	return lcs, idx.hasCommon && maxChainLength < idx.cnt
}

func (h *histogram) tryLCS(idx *histIndex, lcs *region, bPtr, line1, count1, line2, count2 int) int {
	bNext := bPtr + 1
	r := h.recOf[h.b.ids[bPtr-1]]
	if r == 0 {
		return bNext
	}
	rec := h.recs[r-1]
	if rec.cnt > idx.cnt {
		idx.hasCommon = true
		return bNext
	}
	end1, end2 := line1+count1-1, line2+count2-1
	a, b := h.a.ids, h.b.ids
	cntAt := func(ptr int) int { return h.recs[h.lineMap[ptr-idx.ptrShift]].cnt }
	idx.hasCommon = true
	for as := rec.ptr; ; {
		np := h.nextPtrs[as-idx.ptrShift]
		bs, ae, be := bPtr, as, bPtr
		rc := rec.cnt
		for line1 < as && line2 < bs && a[as-2] == b[bs-2] {
			as--
			bs--
			if 1 < rc {
				rc = min(rc, cntAt(as))
			}
		}
		for ae < end1 && be < end2 && a[ae] == b[be] {
			ae++
			be++
			if 1 < rc {
				rc = min(rc, cntAt(ae))
			}
		}
		if bNext <= be {
			bNext = be + 1
		}
		if lcs.end1-lcs.begin1 < ae-as || rc < idx.cnt {
			*lcs = region{begin1: as, begin2: bs, end1: ae, end2: be}
			idx.cnt = rc
		}
		if np == 0 {
			break
		}
		for np != 0 && np <= ae {
			np = h.nextPtrs[np-idx.ptrShift]
		}
		if np == 0 {
			break
		}
		as = np
	}
	return bNext
}

// ---- classic Myers diff with xdiff's heuristics (xdiff/xdiffi.c, xprepare.c) ----

const (
	maxCostMin   = 256
	heurMinCost  = 256
	snakeCount   = 20
	kHeuristic   = 4
	maxEqLimit   = 1024
	simscanWidth = 100
	kpdisRun     = 4
	lineMax      = int(^uint(0) >> 1)
)

// bogoSqrt is xdiff's cheap square root estimate.
func bogoSqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// classicDiff diffs a's lines [off1, off1+n1) against b's [off2, off2+n2)
// (0-based) the way xdiff's default algorithm diffs two whole files: trim the
// common ends, set aside lines without a match on the other side, then run
// Myers' middle-snake search with xdiff's cost cut-offs.
func classicDiff(fa, fb *lineFile, off1, n1, off2, n2 int) {
	a := fa.ids[off1 : off1+n1]
	b := fb.ids[off2 : off2+n2]
	ca, cb := newLineFile(a), newLineFile(b)

	// Trim the common prefix and suffix.
	lim := min(n1, n2)
	start := 0
	for start < lim && a[start] == b[start] {
		start++
	}
	suffix := 0
	for suffix < lim-start && a[n1-1-suffix] == b[n2-1-suffix] {
		suffix++
	}
	dend1, dend2 := n1-suffix-1, n2-suffix-1

	count := func(ids []int) map[int]int {
		m := make(map[int]int, len(ids))
		for _, id := range ids {
			m[id]++
		}
		return m
	}
	inA, inB := count(a), count(b)
	keptA := discardUnmatched(ca, start, dend1, inB, min(bogoSqrt(n1), maxEqLimit))
	keptB := discardUnmatched(cb, start, dend2, inA, min(bogoSqrt(n2), maxEqLimit))

	m := &myers{a: ca, b: cb, rindex1: keptA, rindex2: keptB}
	m.ha1 = make([]int, len(keptA))
	for k, i := range keptA {
		m.ha1[k] = a[i]
	}
	m.ha2 = make([]int, len(keptB))
	for k, i := range keptB {
		m.ha2[k] = b[i]
	}
	ndiags := len(keptA) + len(keptB) + 3
	m.kvdf = make([]int, ndiags)
	m.kvdb = make([]int, ndiags)
	m.kvOff = len(keptB) + 1
	m.mxcost = max(bogoSqrt(ndiags), maxCostMin)
	m.recsCmp(0, len(keptA), 0, len(keptB), false)

	for i := 0; i < n1; i++ {
		fa.mark(off1+i, ca.isChanged(i))
	}
	for i := 0; i < n2; i++ {
		fb.mark(off2+i, cb.isChanged(i))
	}
}

// discardUnmatched marks as changed the lines of f in [dstart, dend] that
// have no match in the other file (or have many matches and sit among lines
// without one), and returns the indexes of the lines left for Myers.
func discardUnmatched(f *lineFile, dstart, dend int, other map[int]int, mlim int) []int {
	dis := make([]byte, f.n()+1)
	for i := dstart; i <= dend; i++ {
		nm := min(other[f.ids[i]], mlim)
		switch {
		case nm == 0:
			dis[i] = 0
		case nm >= mlim:
			dis[i] = 2
		default:
			dis[i] = 1
		}
	}
	var kept []int
	for i := dstart; i <= dend; i++ {
		if dis[i] == 1 || (dis[i] == 2 && !cleanMultiMatch(dis, i, dstart, dend)) {
			kept = append(kept, i)
		} else {
			f.mark(i, true)
		}
	}
	return kept
}

// cleanMultiMatch reports whether the multi-match line i sits in a run
// dominated by unmatched lines, in which case it is discarded too.
func cleanMultiMatch(dis []byte, i, s, e int) bool {
	if i-s > simscanWidth {
		s = i - simscanWidth
	}
	if e-i > simscanWidth {
		e = i + simscanWidth
	}
	rdis0, rpdis0 := 0, 1
	for r := 1; i-r >= s; r++ {
		if dis[i-r] == 0 {
			rdis0++
		} else if dis[i-r] == 2 {
			rpdis0++
		} else {
			break
		}
	}
	if rdis0 == 0 {
		return false
	}
	rdis1, rpdis1 := 0, 1
	for r := 1; i+r <= e; r++ {
		if dis[i+r] == 0 {
			rdis1++
		} else if dis[i+r] == 2 {
			rpdis1++
		} else {
			break
		}
	}
	if rdis1 == 0 {
		return false
	}
	rdis1 += rdis0
	rpdis1 += rpdis0
	return rpdis1*kpdisRun < rpdis1+rdis1
}

type myers struct {
	a, b             *lineFile
	rindex1, rindex2 []int // kept line -> line index
	ha1, ha2         []int // kept line -> id
	kvdf, kvdb       []int
	kvOff            int
	mxcost           int
}

func (m *myers) fwd(d int) *int { return &m.kvdf[d+m.kvOff] }
func (m *myers) bwd(d int) *int { return &m.kvdb[d+m.kvOff] }

type splitPoint struct {
	i1, i2       int
	minLo, minHi bool
}

// recsCmp is xdiff's divide and conquer over the kept lines.
func (m *myers) recsCmp(off1, lim1, off2, lim2 int, needMin bool) {
	for off1 < lim1 && off2 < lim2 && m.ha1[off1] == m.ha2[off2] {
		off1++
		off2++
	}
	for off1 < lim1 && off2 < lim2 && m.ha1[lim1-1] == m.ha2[lim2-1] {
		lim1--
		lim2--
	}
	switch {
	case off1 == lim1:
		for ; off2 < lim2; off2++ {
			m.b.mark(m.rindex2[off2], true)
		}
	case off2 == lim2:
		for ; off1 < lim1; off1++ {
			m.a.mark(m.rindex1[off1], true)
		}
	default:
		spl := m.split(off1, lim1, off2, lim2, needMin)
		m.recsCmp(off1, spl.i1, off2, spl.i2, spl.minLo)
		m.recsCmp(spl.i1, lim1, spl.i2, lim2, spl.minHi)
	}
}

// split finds the middle snake of the box, or a good enough split point
// once the edit cost passes xdiff's limits.
func (m *myers) split(off1, lim1, off2, lim2 int, needMin bool) splitPoint {
	ha1, ha2 := m.ha1, m.ha2
	dmin, dmax := off1-lim2, lim1-off2
	fmid, bmid := off1-off2, lim1-lim2
	odd := (fmid-bmid)&1 != 0
	fmin, fmax := fmid, fmid
	bmin, bmax := bmid, bmid

	*m.fwd(fmid) = off1
	*m.bwd(bmid) = lim1

	for ec := 1; ; ec++ {
		gotSnake := false

		if fmin > dmin {
			fmin--
			*m.fwd(fmin - 1) = -1
		} else {
			fmin++
		}
		if fmax < dmax {
			fmax++
			*m.fwd(fmax + 1) = -1
		} else {
			fmax--
		}
		for d := fmax; d >= fmin; d -= 2 {
			var i1 int
			if *m.fwd(d - 1) >= *m.fwd(d + 1) {
				i1 = *m.fwd(d - 1) + 1
			} else {
				i1 = *m.fwd(d + 1)
			}
			prev1 := i1
			i2 := i1 - d
			for i1 < lim1 && i2 < lim2 && ha1[i1] == ha2[i2] {
				i1++
				i2++
			}
			if i1-prev1 > snakeCount {
				gotSnake = true
			}
			*m.fwd(d) = i1
			if odd && bmin <= d && d <= bmax && *m.bwd(d) <= i1 {
				return splitPoint{i1: i1, i2: i2, minLo: true, minHi: true}
			}
		}

		if bmin > dmin {
			bmin--
			*m.bwd(bmin - 1) = lineMax
		} else {
			bmin++
		}
		if bmax < dmax {
			bmax++
			*m.bwd(bmax + 1) = lineMax
		} else {
			bmax--
		}
		for d := bmax; d >= bmin; d -= 2 {
			var i1 int
			if *m.bwd(d - 1) < *m.bwd(d + 1) {
				i1 = *m.bwd(d - 1)
			} else {
				i1 = *m.bwd(d + 1) - 1
			}
			prev1 := i1
			i2 := i1 - d
			for i1 > off1 && i2 > off2 && ha1[i1-1] == ha2[i2-1] {
				i1--
				i2--
			}
			if prev1-i1 > snakeCount {
				gotSnake = true
			}
			*m.bwd(d) = i1
			if !odd && fmin <= d && d <= fmax && i1 <= *m.fwd(d) {
				return splitPoint{i1: i1, i2: i2, minLo: true, minHi: true}
			}
		}

		if needMin {
			continue
		}

		if gotSnake && ec > heurMinCost {
			best := 0
			var spl splitPoint
			for d := fmax; d >= fmin; d -= 2 {
				dd := d - fmid
				if dd < 0 {
					dd = -dd
				}
				i1 := *m.fwd(d)
				i2 := i1 - d
				v := (i1 - off1) + (i2 - off2) - dd
				if v > kHeuristic*ec && v > best &&
					off1+snakeCount <= i1 && i1 < lim1 &&
					off2+snakeCount <= i2 && i2 < lim2 {
					for k := 1; ha1[i1-k] == ha2[i2-k]; k++ {
						if k == snakeCount {
							best = v
							spl.i1, spl.i2 = i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				spl.minLo, spl.minHi = true, false
				return spl
			}

			best = 0
			for d := bmax; d >= bmin; d -= 2 {
				dd := d - bmid
				if dd < 0 {
					dd = -dd
				}
				i1 := *m.bwd(d)
				i2 := i1 - d
				v := (lim1 - i1) + (lim2 - i2) - dd
				if v > kHeuristic*ec && v > best &&
					off1 < i1 && i1 <= lim1-snakeCount &&
					off2 < i2 && i2 <= lim2-snakeCount {
					for k := 0; ha1[i1+k] == ha2[i2+k]; k++ {
						if k == snakeCount-1 {
							best = v
							spl.i1, spl.i2 = i1, i2
							break
						}
					}
				}
			}
			if best > 0 {
				spl.minLo, spl.minHi = false, true
				return spl
			}
		}

		if ec >= m.mxcost {
			fbest, fbest1 := -1, -1
			for d := fmax; d >= fmin; d -= 2 {
				i1 := min(*m.fwd(d), lim1)
				i2 := i1 - d
				if lim2 < i2 {
					i1 = lim2 + d
					i2 = lim2
				}
				if fbest < i1+i2 {
					fbest = i1 + i2
					fbest1 = i1
				}
			}
			bbest, bbest1 := lineMax, lineMax
			for d := bmax; d >= bmin; d -= 2 {
				i1 := max(off1, *m.bwd(d))
				i2 := i1 - d
				if i2 < off2 {
					i1 = off2 + d
					i2 = off2
				}
				if i1+i2 < bbest {
					bbest = i1 + i2
					bbest1 = i1
				}
			}
			if (lim1+lim2)-bbest < fbest-(off1+off2) {
				return splitPoint{i1: fbest1, i2: fbest - fbest1, minLo: true, minHi: false}
			}
			return splitPoint{i1: bbest1, i2: bbest - bbest1, minLo: false, minHi: true}
		}
	}
}

// ---- change compaction (xdl_change_compact) ----

type group struct{ start, end int }

func groupInit(f *lineFile) group {
	var g group
	for f.isChanged(g.end) {
		g.end++
	}
	return g
}

func groupNext(f *lineFile, g *group) bool {
	if g.end == f.n() {
		return false
	}
	g.start = g.end + 1
	g.end = g.start
	for f.isChanged(g.end) {
		g.end++
	}
	return true
}

func groupPrevious(f *lineFile, g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	g.start = g.end
	for f.isChanged(g.start - 1) {
		g.start--
	}
	return true
}

func groupSlideDown(f *lineFile, g *group) bool {
	if g.end < f.n() && f.ids[g.start] == f.ids[g.end] {
		f.mark(g.start, false)
		g.start++
		f.mark(g.end, true)
		g.end++
		for f.isChanged(g.end) {
			g.end++
		}
		return true
	}
	return false
}

func groupSlideUp(f *lineFile, g *group) bool {
	if g.start > 0 && f.ids[g.start-1] == f.ids[g.end-1] {
		g.start--
		f.mark(g.start, true)
		g.end--
		f.mark(g.end, false)
		for f.isChanged(g.start - 1) {
			g.start--
		}
		return true
	}
	return false
}

// compact slides each group of changed lines in f as far down as it goes,
// merging groups it bumps into, then back up to line up with a group of the
// other file when it can.
func compact(f, other *lineFile) {
	g, o := groupInit(f), groupInit(other)
	for {
		if g.end != g.start {
			var earliestEnd int
			endMatchingOther := -1
			for {
				size := g.end - g.start
				endMatchingOther = -1
				for groupSlideUp(f, &g) {
					if !groupPrevious(other, &o) {
						panic("revert: diff group sync broken sliding up")
					}
				}
				earliestEnd = g.end
				if o.end > o.start {
					endMatchingOther = g.end
				}
				for groupSlideDown(f, &g) {
					if !groupNext(other, &o) {
						panic("revert: diff group sync broken sliding down")
					}
					if o.end > o.start {
						endMatchingOther = g.end
					}
				}
				if size == g.end-g.start {
					break
				}
			}
			if g.end != earliestEnd && endMatchingOther != -1 {
				for o.end == o.start {
					if !groupSlideUp(f, &g) {
						panic("revert: diff group match disappeared")
					}
					if !groupPrevious(other, &o) {
						panic("revert: diff group sync broken sliding to match")
					}
				}
			}
		}
		if !groupNext(f, &g) {
			break
		}
		if !groupNext(other, &o) {
			panic("revert: diff group sync broken moving to next group")
		}
	}
}
