package revert

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/internal/panics"
)

// Git file modes as they appear in tree entries.
const (
	modeFile       = "100644"
	modeExecutable = "100755"
	modeGitlink    = "160000"
	modeTree       = "040000"
)

// maxConcurrentReads bounds the Reader calls in flight at once: enough to
// fetch every directory along a release's few paths in one round trip,
// without flooding the API with a huge commit.
const maxConcurrentReads = 8

// binaryProbeSize is how much of a file git inspects for a NUL byte to
// decide that it is binary (FIRST_FEW_BYTES in git's xdiff-interface).
const binaryProbeSize = 8000

// Revert computes the tree changes of `git revert req.Commit` applied on
// req.Head: a three-way merge with the reverted commit as base, the head as
// "ours" and the commit's parent as "theirs", resolved path by path as git's
// merge-ort resolves it. It reads only directories on the way to req.Paths
// (see readTrees) and only the blobs of files both sides changed.
//
// It returns *ConflictError where git would stop with conflicts,
// ErrNothingToRevert where the merge leaves the head's tree unchanged, and
// *UnsupportedError for merge and root commits and submodule changes.
// Result.Changes lists deletions first, then additions and modifications,
// each group sorted by path, so that a file can replace a directory (and the
// reverse) when the changes are applied in order.
//
// Renames are followed as merge-ort follows them (see followRenames), on
// either side: where one side removed a file that the other changed or also
// removed, or the branch removed a folder the revert restores a file into,
// the engine asks a Reader that implements Renames for that side's renames,
// once, and refuses with an Uncertain conflict when the Reader cannot tell
// (see ConflictKind.Conservative).
func Revert(ctx context.Context, r Reader, req Request) (*Result, error) {
	switch len(req.Parents) {
	case 1:
	case 0:
		return nil, &UnsupportedError{Commit: req.Commit, Reason: "it is a root commit, which has no parent to go back to"}
	default:
		return nil, &UnsupportedError{Commit: req.Commit, Reason: fmt.Sprintf("it is a merge commit with %d parents", len(req.Parents))}
	}
	paths, err := cleanPaths(req.Paths)
	if err != nil {
		return nil, fmt.Errorf("revert %s: %w", shortSHA(req.Commit), err)
	}
	if len(paths) == 0 {
		return nil, ErrNothingToRevert
	}

	e := &engine{
		req:   req,
		dirs:  &dirCache{r: r, entries: make(map[dirKey]map[string]Entry)},
		paths: make(map[string]*pathState, len(paths)),
	}
	if err := e.readTrees(ctx, paths); err != nil {
		return nil, err
	}
	for _, p := range paths {
		st, err := e.resolve(p)
		if err != nil {
			return nil, err
		}
		e.paths[p] = st
		e.order = append(e.order, p)
		e.removesFiles = e.removesFiles || !st.base.Exists() && st.their.Exists()
	}
	if err := e.followRenames(ctx); err != nil {
		return nil, err
	}
	if err := e.mergeContents(ctx); err != nil {
		return nil, err
	}
	if err := e.checkFileDirectory(ctx); err != nil {
		return nil, err
	}
	if err := e.checkBranchAdditions(ctx); err != nil {
		return nil, err
	}
	return e.result()
}

// cleanPaths validates, deduplicates and sorts the changed paths.
func cleanPaths(in []string) ([]string, error) {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, p := range in {
		p = strings.Trim(p, "/")
		if p == "" {
			return nil, fmt.Errorf("empty path in the changed paths")
		}
		for _, part := range strings.Split(p, "/") {
			if part == "" || part == "." || part == ".." {
				return nil, fmt.Errorf("invalid path %q in the changed paths", p)
			}
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// parentDir returns the directory holding p ("" for the root).
func parentDir(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

type engine struct {
	req   Request
	dirs  *dirCache
	paths map[string]*pathState
	order []string // sorted changed paths
	blobs map[string][]byte

	// The renames of each side of the merge, asked for at most once each
	// and only when the outcome depends on them: the branch's (reverted
	// commit -> head) and the revert's own (reverted commit -> parent, the
	// reverted commit's renames the other way round).
	branch, reverted renameSet

	// removesFiles: the reverted commit removed a file (one its parent
	// has), so that it may have renamed one.
	removesFiles bool

	// others are conflicts on paths the reverted commit did not change.
	others []FileConflict
}

// renameSet is one side's renames, old path -> new path, as far as asked.
type renameSet struct {
	asked   bool
	known   bool // the Reader gave a complete answer
	renames map[string]string
}

// pathState is one changed path: its versions in the merge base (the
// reverted commit), ours (the head) and theirs (the parent), and how it
// resolves.
type pathState struct {
	path              string
	base, ours, their Entry // file entries; the zero Entry where there is no file
	headIsTree        bool  // the head has a directory at this path
	// oursMoved marks a file the revert renames back to this path: ours is
	// the head's file at the name the reverted commit gave it, and the
	// head has nothing here.
	oursMoved bool

	result   Entry  // the resolved entry; the zero Entry means deleted
	content  []byte // merged content to upload when result.SHA is ""
	conflict *FileConflict
	// needsMerge marks regular files that both sides changed, whose
	// contents must be merged line by line.
	needsMerge bool
}

// commits returns the three commits of the merge, base first.
func (e *engine) commits() [3]string {
	return [3]string{e.req.Commit, e.req.Head, e.req.Parents[0]}
}

// readTrees lists the directories the merge needs. The directory holding
// each path is read in the head and the parent; in the reverted commit only
// where Request.Known cannot stand in for it (see knownBase). Ancestor
// directories are read only in the head and only where the holding
// directory is missing there, to find a file that blocks the path: a listed
// directory proves that every directory above it is one too.
func (e *engine) readTrees(ctx context.Context, paths []string) error {
	base, head, parent := e.commits()[0], e.commits()[1], e.commits()[2]
	var first []dirKey
	for _, p := range paths {
		d := parentDir(p)
		first = append(first, dirKey{commit: head, dir: d}, dirKey{commit: parent, dir: d})
		if _, known := e.req.Known[p]; !known {
			first = append(first, dirKey{commit: base, dir: d})
		}
	}
	if err := e.dirs.fetch(ctx, first); err != nil {
		return err
	}
	var second []dirKey
	for _, p := range paths {
		if _, ok := e.knownBase(p); !ok {
			second = append(second, dirKey{commit: base, dir: parentDir(p)})
		}
		for d := parentDir(p); d != "" && len(e.dirs.get(head, d)) == 0; {
			d = parentDir(d)
			second = append(second, dirKey{commit: head, dir: d})
		}
	}
	return e.dirs.fetch(ctx, second)
}

// knownBase returns an entry that stands for p in the reverted commit when
// Request.Known gives its blob and the mode it has there cannot change how
// the path resolves; ok is false when the commit's directory must be read.
func (e *engine) knownBase(p string) (en Entry, ok bool) {
	sha, known := e.req.Known[p]
	if !known {
		return Entry{}, false
	}
	if sha == "" {
		return Entry{}, true // removed by the commit
	}
	head, parent := e.commits()[1], e.commits()[2]
	o, t := fileEntry(e.entry(head, p)), fileEntry(e.entry(parent, p))
	switch {
	case !o.Exists() && !t.Exists():
		// Both sides lack the file: it stays away whatever the base was.
		return Entry{Mode: modeFile, SHA: sha}, true
	case !o.Exists() && t.SHA != sha:
		// The head removed what the revert changes: modify/delete in any mode.
		return Entry{Mode: t.Mode, SHA: sha}, true
	case o.Exists() && t.Exists() && o.SHA == sha && o.Mode == t.Mode:
		// The head still has the commit's content and already the mode the
		// revert restores: the parent's version results in any base mode.
		return Entry{Mode: o.Mode, SHA: sha}, true
	}
	return Entry{}, false
}

// entry returns the entry at p in commit, from the listings already read.
func (e *engine) entry(commit, p string) Entry {
	return e.dirs.get(commit, parentDir(p))[path.Base(p)]
}

func fileEntry(en Entry) Entry {
	if en.Mode == modeTree {
		return Entry{}
	}
	return en
}

func isRegular(mode string) bool { return mode == modeFile || mode == modeExecutable }

// resolve decides a path as merge-ort does where that needs no file content:
// a side that did not change takes the other side's version, identical
// changes agree, and a change against a deletion conflicts.
func (e *engine) resolve(p string) (*pathState, error) {
	c := e.commits()
	head := e.entry(c[1], p)
	base, known := e.knownBase(p)
	if !known {
		base = fileEntry(e.entry(c[0], p))
	}
	st := &pathState{
		path:       p,
		base:       base,
		ours:       fileEntry(head),
		their:      fileEntry(e.entry(c[2], p)),
		headIsTree: head.Mode == modeTree,
	}
	for _, en := range []Entry{st.base, st.ours, st.their} {
		if en.Mode == modeGitlink {
			return nil, &UnsupportedError{Commit: e.req.Commit, Path: p, Reason: "submodule changes are not reverted"}
		}
	}
	e.decide(st)
	return st, nil
}

// decide resolves a path from its three versions, as merge-ort does for a
// path no rename involves.
func (e *engine) decide(st *pathState) {
	p := st.path
	b, o, t := st.base, st.ours, st.their
	switch {
	case b.Exists() && !o.Exists() && !t.Exists():
		// Deleted on both sides as far as this path shows; but git pairs
		// a file the branch renamed with its new name and then conflicts.
		st.conflict = &FileConflict{Path: p, Kind: ConflictRenameDelete}
	case o == t:
		st.result = o
	case o == b:
		st.result = t
	case t == b:
		st.result = o
	case !o.Exists() || !t.Exists():
		st.conflict = &FileConflict{Path: p, Kind: ConflictModifyDelete}
	case isRegular(o.Mode) != isRegular(t.Mode):
		// A regular file on one side, a symlink on the other.
		st.conflict = &FileConflict{Path: p, Kind: ConflictMode}
	default:
		e.resolveBothChanged(st)
	}
}

// resolveBothChanged handles a file both sides changed (or both added)
// differently: modes merge on their own, contents where only one side
// changed them; regular files with two changed contents are merged later.
func (e *engine) resolveBothChanged(st *pathState) {
	b, o, t := st.base, st.ours, st.their
	modeClean := true
	mode := t.Mode
	if o.Mode != t.Mode && o.Mode != b.Mode {
		mode = o.Mode
		modeClean = t.Mode == b.Mode
	}
	switch {
	case o.SHA == t.SHA || o.SHA == b.SHA:
		st.result = Entry{Mode: mode, SHA: t.SHA}
	case t.SHA == b.SHA:
		st.result = Entry{Mode: mode, SHA: o.SHA}
	case isRegular(o.Mode):
		st.result = Entry{Mode: mode}
		st.needsMerge = true
	default:
		st.conflict = &FileConflict{Path: st.path, Kind: ConflictSymlink}
		return
	}
	if !modeClean {
		st.conflict = &FileConflict{Path: st.path, Kind: ConflictMode}
		st.needsMerge = false
	}
}

// mergeContents reads the blobs of the files that need a line merge, all at
// once, and merges them.
func (e *engine) mergeContents(ctx context.Context) error {
	var shas []string
	for _, p := range e.order {
		st := e.paths[p]
		if !st.needsMerge {
			continue
		}
		for _, en := range []Entry{st.base, st.ours, st.their} {
			if en.Exists() {
				shas = append(shas, en.SHA)
			}
		}
	}
	if len(shas) == 0 {
		return nil
	}
	blobs, err := e.readBlobs(ctx, shas)
	if err != nil {
		return err
	}
	e.blobs = blobs
	for _, p := range e.order {
		if st := e.paths[p]; st.needsMerge {
			e.mergeFile(st)
		}
	}
	return nil
}

func (e *engine) readBlobs(ctx context.Context, shas []string) (map[string][]byte, error) {
	unique := make(map[string]bool, len(shas))
	for _, sha := range shas {
		unique[sha] = true
	}
	blobs := make(map[string][]byte, len(unique))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentReads)
	for sha := range unique {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "read blob "+sha, &err)
			data, err := e.dirs.r.Blob(gctx, sha)
			if err != nil {
				return fmt.Errorf("read blob %s: %w", sha, err)
			}
			mu.Lock()
			blobs[sha] = data
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return blobs, nil
}

// isBinary reports whether git would treat data as binary.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), binaryProbeSize)], 0) >= 0
}

func (e *engine) mergeFile(st *pathState) {
	var base []byte
	if st.base.Exists() {
		base = e.blobs[st.base.SHA]
	}
	ours, theirs := e.blobs[st.ours.SHA], e.blobs[st.their.SHA]
	if isBinary(base) || isBinary(ours) || isBinary(theirs) {
		st.conflict = &FileConflict{Path: st.path, Kind: ConflictBinary}
		return
	}
	out := merge3(base, ours, theirs, algorithmHistogram, levelZealous)
	if out.nConfl > 0 {
		kind := ConflictContent
		if !st.base.Exists() {
			kind = ConflictAddAdd
		}
		st.conflict = &FileConflict{Path: st.path, Kind: kind, Hunks: conflictHunks(base, ours, theirs, out.hunks)}
		return
	}
	switch {
	case bytes.Equal(out.clean, ours):
		st.result.SHA = st.ours.SHA
	case bytes.Equal(out.clean, theirs):
		st.result.SHA = st.their.SHA
	default:
		// Never nil, even when the merge empties the file: Content is
		// what marks a change as needing an upload.
		st.content = append([]byte{}, out.clean...)
	}
}

func conflictHunks(base, ours, theirs []byte, hunks []*mergeHunk) []ConflictHunk {
	bl, ol, tl := splitLines(base), splitLines(ours), splitLines(theirs)
	lineRange := func(lines [][]byte, i, n int) LineRange {
		r := LineRange{Start: i + 1}
		if n == 0 {
			r.Start = i
		}
		for _, l := range lines[i : i+n] {
			r.Lines = append(r.Lines, string(l))
		}
		return r
	}
	out := make([]ConflictHunk, len(hunks))
	for k, h := range hunks {
		out[k] = ConflictHunk{
			Base:   lineRange(bl, h.i0, h.chg0),
			Head:   lineRange(ol, h.i1, h.chg1),
			Parent: lineRange(tl, h.i2, h.chg2),
		}
	}
	return out
}

// checkFileDirectory finds results that need a file and a directory at the
// same path: a restored file under a path that stays a file, or a restored
// file where the head has a directory that the revert does not empty.
func (e *engine) checkFileDirectory(ctx context.Context) error {
	head := e.req.Head
	// fileAt reports whether the result has a file at q, an ancestor of a
	// changed path.
	fileAt := func(q string) bool {
		if st, ok := e.paths[q]; ok {
			return st.conflict == nil && st.result.Exists()
		}
		en := e.entry(head, q)
		return en.Exists() && en.Mode != modeTree
	}
	var needHeadDirs, baseDirs []dirKey
	var restored []*pathState // files the revert restores, with baseDirs
	for _, p := range e.order {
		st := e.paths[p]
		if st.conflict != nil || !st.result.Exists() {
			continue
		}
		for q := parentDir(p); q != ""; q = parentDir(q) {
			if fileAt(q) {
				st.conflict = &FileConflict{Path: p, Kind: ConflictFileDirectory}
				break
			}
		}
		// A file the revert restores, or renames back to a name the head
		// lacks, lands where the branch may have renamed the folder.
		if st.conflict == nil && (!st.base.Exists() && !st.ours.Exists() || st.oursMoved) {
			if top := e.highestMissingDir(p); top != "" {
				restored = append(restored, st)
				baseDirs = append(baseDirs, dirKey{commit: e.req.Commit, dir: top})
			}
		}
		if st.conflict == nil && st.headIsTree {
			needHeadDirs = append(needHeadDirs, dirKey{commit: head, dir: p})
		}
	}
	if len(needHeadDirs)+len(baseDirs) == 0 {
		return nil
	}
	if err := e.dirs.fetch(ctx, append(append([]dirKey{}, needHeadDirs...), baseDirs...)); err != nil {
		return err
	}
	if err := e.checkFileLocation(ctx, restored, baseDirs); err != nil {
		return err
	}
	for _, k := range needHeadDirs {
		remains, err := e.headDirRemains(ctx, k.dir)
		if err != nil {
			return err
		}
		if remains {
			st := e.paths[k.dir]
			st.conflict = &FileConflict{Path: st.path, Kind: ConflictFileDirectory}
		}
	}
	return nil
}

// checkFileLocation decides the files restored into a folder the head
// lacks, with tops[i] the highest such folder of restored[i]: if the folder
// existed in the reverted commit, the branch removed it, and git's
// directory rename detection moves the file if the branch renamed it.
func (e *engine) checkFileLocation(ctx context.Context, restored []*pathState, tops []dirKey) error {
	var removed []dirKey // the tops the branch removed
	var candidates []*pathState
	var dirs []dirKey // the candidates' folders in the reverted commit
	for i, st := range restored {
		if len(e.dirs.get(tops[i].commit, tops[i].dir)) > 0 {
			removed = append(removed, tops[i])
			candidates = append(candidates, st)
			dirs = append(dirs, dirKey{commit: e.req.Commit, dir: parentDir(st.path)})
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	renames, known, err := e.branchRenames(ctx)
	if err != nil {
		return err
	}
	if !known {
		for _, st := range candidates {
			st.conflict = &FileConflict{Path: st.path, Kind: ConflictFileLocation, Uncertain: true}
		}
		return nil
	}
	if err := e.dirs.fetch(ctx, dirs); err != nil {
		return err
	}
	// git looks for directory renames only for the folders the branch
	// removed that the other side adds files to directly.
	relevant := make(map[string]bool)
	for _, k := range dirs {
		if len(e.dirs.get(k.commit, k.dir)) > 0 {
			relevant[k.dir] = true
		}
	}
	renamed := renamedDirectories(renames, relevant, func(dir string) bool {
		for _, k := range removed {
			if dir == k.dir || strings.HasPrefix(dir, k.dir+"/") {
				return true
			}
		}
		return false
	})
	for _, st := range candidates {
		for dir := parentDir(st.path); dir != ""; dir = parentDir(dir) {
			if renamed[dir] {
				st.conflict = &FileConflict{Path: st.path, Kind: ConflictFileLocation}
				break
			}
		}
	}
	return nil
}

// checkBranchAdditions finds the files the branch added to a folder that
// the reverted commit created and the revert removes: where the reverted
// commit renamed files into that folder, git's directory rename detection
// sees the revert rename the folder back, and reports a file location
// conflict for each file the branch added there (with git's default
// merge.directoryRenames=conflict). The mirror of checkFileLocation.
func (e *engine) checkBranchAdditions(ctx context.Context) error {
	base, head, parent := e.commits()[0], e.commits()[1], e.commits()[2]
	var folders []string
	var keys []dirKey
	seen := make(map[string]bool)
	for _, p := range e.order {
		st, d := e.paths[p], parentDir(p)
		if d == "" || seen[d] || !st.base.Exists() || st.their.Exists() ||
			len(e.dirs.get(parent, d)) > 0 || len(e.dirs.get(head, d)) == 0 {
			continue
		}
		seen[d] = true
		folders = append(folders, d)
		keys = append(keys, dirKey{commit: base, dir: d})
	}
	if len(folders) == 0 {
		return nil
	}
	if err := e.dirs.fetch(ctx, keys); err != nil {
		return err
	}
	added := make(map[string][]string) // folder -> names the branch added
	for _, d := range folders {
		inBase := e.dirs.get(base, d)
		for name := range e.dirs.get(head, d) {
			if _, ok := inBase[name]; !ok {
				added[d] = append(added[d], name)
			}
		}
	}
	if len(added) == 0 || e.conflicting() {
		// Nothing to move, or a refusal already, which these conflicts
		// would only add to.
		return nil
	}
	renames, known, err := e.revertedRenames(ctx)
	if err != nil {
		return err
	}
	renamed := make(map[string]bool)
	if known {
		// renamedDirectories needs to know which folders above the
		// renamed files the revert removes: those the parent lacks.
		var above []dirKey
		for from := range renames {
			for d := parentDir(from); d != ""; d = parentDir(d) {
				above = append(above, dirKey{commit: parent, dir: d})
			}
		}
		if err := e.dirs.fetch(ctx, above); err != nil {
			return err
		}
		relevant := make(map[string]bool, len(added))
		for d := range added {
			relevant[d] = true
		}
		renamed = renamedDirectories(renames, relevant, func(dir string) bool {
			return dir != "" && len(e.dirs.get(parent, dir)) == 0
		})
	}
	for d, names := range added {
		if known && !renamed[d] {
			continue
		}
		for _, name := range names {
			e.others = append(e.others, FileConflict{Path: d + "/" + name, Kind: ConflictFileLocation, Uncertain: !known})
		}
	}
	return nil
}

// conflicting reports whether some changed path conflicts.
func (e *engine) conflicting() bool {
	for _, st := range e.paths {
		if st.conflict != nil {
			return true
		}
	}
	return false
}

// branchRenames returns the files the branch renamed between the reverted
// commit and the head (old path -> new path), asking the Reader on the
// first call only; known is false when the Reader does not implement
// Renames or its answer may be partial.
func (e *engine) branchRenames(ctx context.Context) (renames map[string]string, known bool, err error) {
	return e.askRenames(ctx, &e.branch, e.req.Commit, e.req.Head, false)
}

// revertedRenames returns the files the revert renames, path in the
// reverted commit -> path in its parent: the commit's own renames turned
// round. git finds them between the parent and the commit, so the Reader is
// asked in that direction (on GitHub, the comparison parent...commit lists
// the commit's own files).
func (e *engine) revertedRenames(ctx context.Context) (renames map[string]string, known bool, err error) {
	if !e.removesFiles {
		// A rename removes its old name: a commit that removed no file
		// renamed none, and the question needs no request.
		return nil, true, nil
	}
	return e.askRenames(ctx, &e.reverted, e.req.Parents[0], e.req.Commit, true)
}

func (e *engine) askRenames(ctx context.Context, set *renameSet, base, head string, invert bool) (map[string]string, bool, error) {
	if !set.asked {
		set.asked = true
		if r, ok := e.dirs.r.(Renames); ok {
			renames, complete, err := r.RenamedSince(ctx, base, head)
			if err != nil {
				return nil, false, fmt.Errorf("find the renames between %s and %s: %w", shortSHA(base), shortSHA(head), err)
			}
			if invert {
				turned := make(map[string]string, len(renames))
				for from, to := range renames {
					turned[to] = from
				}
				renames = turned
			}
			set.renames, set.known = renames, complete
		}
	}
	return set.renames, set.known, nil
}

// followRenames settles the files that one side of the merge removed and
// the other changed (modify/delete), or that both removed (rename/delete),
// which resolve decided as though nothing had been renamed. git's merge-ort
// pairs a removed file with its new name and then:
//   - the branch renamed X to Y and the revert changes X: the revert's
//     change is merged into Y (base X in the reverted commit, ours Y in the
//     head, theirs X in the parent) and X stays away; rename/add if the
//     parent has a Y of its own;
//   - the reverted commit renamed W to X, so that the revert renames X back
//     to W, and the branch changed X: the branch's change is merged into W
//     and X goes; rename/add if the head has a W of its own;
//   - both renamed X to the same Y: the two Ys merge with X as their base;
//   - both renamed X, to different names: rename/rename; one renamed X and
//     the other deleted it: rename/delete; both deleted it: X goes.
//
// The Reader is asked only here and in checkFileLocation, at most once per
// side; where its answer is missing or partial the conflict stays, marked
// Uncertain.
func (e *engine) followRenames(ctx context.Context) error {
	var candidates []*pathState
	for _, p := range e.order {
		st := e.paths[p]
		if st.conflict != nil && (st.conflict.Kind == ConflictModifyDelete || st.conflict.Kind == ConflictRenameDelete) {
			candidates = append(candidates, st)
		}
	}
	added := false
	for _, st := range candidates {
		var moved *pathState
		var err error
		switch {
		case !st.ours.Exists() && st.their.Exists():
			moved, err = e.followBranchRename(ctx, st)
		case st.ours.Exists():
			moved, err = e.followRevertedRename(ctx, st)
		default:
			moved, err = e.followBothRenames(ctx, st)
		}
		if err != nil {
			return err
		}
		if moved == nil {
			continue
		}
		if _, ok := e.paths[moved.path]; !ok {
			e.order = append(e.order, moved.path)
			added = true
		}
		e.paths[moved.path] = moved
	}
	if added {
		sort.Strings(e.order)
	}
	return nil
}

// followBranchRename settles a file the revert changes and the branch
// removed. It returns the file's new state at its new name, if it moves.
func (e *engine) followBranchRename(ctx context.Context, st *pathState) (*pathState, error) {
	renames, known, err := e.branchRenames(ctx)
	if err != nil || !known {
		st.conflict.Uncertain = !known
		return nil, err
	}
	y, renamed := renames[st.path]
	if !renamed {
		return nil, nil // deleted by the branch: modify/delete
	}
	if _, changed := e.paths[y]; changed {
		// The new name is not in the reverted commit (a rename's target
		// is new), so the revert restores a file of the parent there.
		st.conflict = &FileConflict{Path: st.path, Kind: ConflictRenameAdd}
		return nil, nil
	}
	base, err := e.baseEntry(ctx, st.path)
	if err != nil {
		return nil, err
	}
	if err := e.dirs.fetch(ctx, []dirKey{{commit: e.req.Head, dir: parentDir(y)}}); err != nil {
		return nil, err
	}
	ours := e.entry(e.req.Head, y)
	if !ours.Exists() || ours.Mode == modeTree || ours.Mode == modeGitlink {
		return nil, fmt.Errorf("follow the rename of %s: the head has no file %s", st.path, y)
	}
	return e.move(st, &pathState{path: y, base: base, ours: ours, their: st.their}), nil
}

// followRevertedRename settles a file the branch changed and the revert
// removes. It returns the file's new state at its name in the parent, if
// the revert renames it there.
func (e *engine) followRevertedRename(ctx context.Context, st *pathState) (*pathState, error) {
	renames, known, err := e.revertedRenames(ctx)
	if err != nil || !known {
		st.conflict.Uncertain = !known
		return nil, err
	}
	w, renamed := renames[st.path]
	target, changed := e.paths[w]
	if !renamed || !changed {
		return nil, nil // deleted by the revert: modify/delete
	}
	if target.ours.Exists() {
		st.conflict = &FileConflict{Path: st.path, Kind: ConflictRenameAdd}
		return nil, nil
	}
	base, err := e.baseEntry(ctx, st.path)
	if err != nil {
		return nil, err
	}
	// A folder the head has at w conflicts unless the revert empties it
	// (checkFileDirectory), as when the file moves out of it.
	moved := &pathState{path: w, base: base, ours: st.ours, their: target.their, oursMoved: true, headIsTree: target.headIsTree}
	return e.move(st, moved), nil
}

// followBothRenames settles a file both the branch and the revert removed.
// It returns the file's new state if both renamed it to the same name.
func (e *engine) followBothRenames(ctx context.Context, st *pathState) (*pathState, error) {
	ours, known, err := e.branchRenames(ctx)
	if err != nil || !known {
		st.conflict.Uncertain = !known
		return nil, err
	}
	theirs, theirsKnown, err := e.revertedRenames(ctx)
	if err != nil {
		return nil, err
	}
	y, renamed := ours[st.path]
	w, theirsRenamed := theirs[st.path]
	_, restored := e.paths[y]
	switch {
	case !theirsKnown && (!renamed || restored):
		// Whether the revert deletes X or renames it (to Y) decides.
		st.conflict.Uncertain = true
	case !renamed && !theirsRenamed:
		// Deleted on both sides: both agree.
		st.conflict, st.result = nil, Entry{}
	case !renamed || !theirsRenamed:
		// Renamed on one side, deleted on the other: rename/delete.
	case y != w:
		st.conflict.Kind = ConflictRenameRename
	default:
		target, changed := e.paths[y]
		if !changed {
			return nil, fmt.Errorf("follow the renames of %s: %s is not among the changed paths", st.path, y)
		}
		base, err := e.baseEntry(ctx, st.path)
		if err != nil {
			return nil, err
		}
		return e.move(st, &pathState{path: y, base: base, ours: target.ours, their: target.their, headIsTree: target.headIsTree}), nil
	}
	return nil, nil
}

// move resolves a renamed file at its new name, and lets the old name go.
func (e *engine) move(from, to *pathState) *pathState {
	from.conflict, from.result = nil, Entry{}
	e.decide(to)
	return to
}

// baseEntry returns the file at p in the reverted commit, reading its
// directory there if Request.Known stood in for it: a merge needs the real
// mode.
func (e *engine) baseEntry(ctx context.Context, p string) (Entry, error) {
	if err := e.dirs.fetch(ctx, []dirKey{{commit: e.req.Commit, dir: parentDir(p)}}); err != nil {
		return Entry{}, err
	}
	return fileEntry(e.entry(e.req.Commit, p)), nil
}

// renamedDirectories returns the relevant folders that git's directory
// rename detection (merge-ort's) sees renamed, given the files the branch
// renamed and which folders it removed. A removed folder counts as renamed
// to the folder that received most of its renamed files: a file renamed
// from a/b/x to c/b/x counts for a/b -> c/b and, the trailing names
// matching, for a -> c. With git's default merge.directoryRenames=conflict,
// a file the other side adds to a renamed folder (or below it) is reported
// as a file location conflict; where no new folder got a majority git
// reports a directory rename split, also a conflict, so either way the
// folder is returned.
func renamedDirectories(renames map[string]string, relevant map[string]bool, removed func(dir string) bool) map[string]bool {
	out := make(map[string]bool)
	for from, to := range renames {
		oldDir, newDir := from, to
		for first := true; ; first = false {
			oldName, newName := path.Base(oldDir), path.Base(newDir)
			oldDir, newDir = parentDir(oldDir), parentDir(newDir)
			if !first && oldName != newName || !removed(oldDir) {
				break
			}
			if relevant[oldDir] {
				out[oldDir] = true
			}
			if newDir == "" {
				break
			}
		}
	}
	return out
}

// headDirRemains reports whether anything of the head's directory dir
// survives the revert.
func (e *engine) headDirRemains(ctx context.Context, dir string) (bool, error) {
	head := e.req.Head
	if err := e.dirs.fetch(ctx, []dirKey{{commit: head, dir: dir}}); err != nil {
		return false, err
	}
	for name, en := range e.dirs.get(head, dir) {
		child := dir + "/" + name
		if en.Mode == modeTree {
			if !e.isAncestorOfChange(child) {
				return true, nil // a subtree the revert does not touch
			}
			remains, err := e.headDirRemains(ctx, child)
			if err != nil || remains {
				return remains, err
			}
			continue
		}
		if st, ok := e.paths[child]; ok && st.conflict == nil && !st.result.Exists() {
			continue // deleted by the revert
		}
		return true, nil
	}
	return false, nil
}

// highestMissingDir returns the highest folder holding p that the head
// lacks, or "" when the head has p's folder. readTrees listed the head's
// folders above a missing one up to one that exists.
func (e *engine) highestMissingDir(p string) string {
	top := ""
	for d := parentDir(p); d != "" && len(e.dirs.get(e.req.Head, d)) == 0; d = parentDir(d) {
		top = d
	}
	return top
}

func (e *engine) isAncestorOfChange(dir string) bool {
	prefix := dir + "/"
	i := sort.SearchStrings(e.order, prefix)
	return i < len(e.order) && strings.HasPrefix(e.order[i], prefix)
}

func (e *engine) result() (*Result, error) {
	conflicts := e.others
	var deletes, writes []Change
	for _, p := range e.order {
		st := e.paths[p]
		if st.conflict != nil {
			conflicts = append(conflicts, *st.conflict)
			continue
		}
		switch {
		case st.result == st.ours && st.content == nil && !st.oursMoved:
			// The head already has the result.
		case !st.result.Exists():
			if st.ours.Exists() && !st.oursMoved {
				deletes = append(deletes, Change{Path: p, Delete: true})
			}
		default:
			writes = append(writes, Change{Path: p, Mode: st.result.Mode, SHA: st.result.SHA, Content: st.content})
		}
	}
	if len(conflicts) > 0 {
		sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].Path < conflicts[j].Path })
		return nil, &ConflictError{Commit: e.req.Commit, Head: e.req.Head, Files: conflicts}
	}
	if len(deletes)+len(writes) == 0 {
		return nil, ErrNothingToRevert
	}
	return &Result{Changes: append(deletes, writes...)}, nil
}

// dirKey names one directory of one commit.
type dirKey struct {
	commit, dir string
}

// dirCache remembers directory listings for the duration of one Revert, so
// that no (commit, directory) pair is read twice.
type dirCache struct {
	r       Reader
	mu      sync.Mutex
	entries map[dirKey]map[string]Entry
}

// fetch reads the listings not read yet, concurrently.
func (c *dirCache) fetch(ctx context.Context, keys []dirKey) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentReads)
	c.mu.Lock()
	var todo []dirKey
	for _, k := range keys {
		if _, ok := c.entries[k]; !ok {
			c.entries[k] = nil // claimed
			todo = append(todo, k)
		}
	}
	c.mu.Unlock()
	for _, k := range todo {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "list directory "+k.dir, &err)
			entries, err := c.r.Dir(gctx, k.commit, k.dir)
			if err != nil {
				return fmt.Errorf("list directory %q of %s: %w", k.dir, shortSHA(k.commit), err)
			}
			c.mu.Lock()
			c.entries[k] = entries
			c.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		c.mu.Lock()
		for _, k := range todo {
			if c.entries[k] == nil {
				delete(c.entries, k)
			}
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// get returns a listing read by fetch.
func (c *dirCache) get(commit, dir string) map[string]Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[dirKey{commit: commit, dir: dir}]
}
