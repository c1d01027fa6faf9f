package gitoracle

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Options shape a generated history.
type Options struct {
	Seed    int64
	Commits int // commits after the initial one; 60 when zero
	// FileDirectory also makes commits that replace a file by a folder of
	// the same name or a folder by a file, so that one path is a file in
	// some commits and a folder in others.
	FileDirectory bool
}

// History is a generated linear history on branch main.
type History struct {
	*Repo
	Seed    int64
	Commits []Commit // oldest first; Commits[0] is the root commit
}

// Generate builds a random history in dir (which must be empty or absent),
// deterministically from opts.Seed. Commits edit text files in nested
// folders (often near lines edited before, so that later commits overlap,
// touch or stay clear of earlier ones), add and delete files, flip the
// executable bit, add and retarget symlinks, change binary files, rename
// files, and revert earlier commits with git itself.
//
// Some commits rename a file (git mv, sometimes with a small edit), so that
// later commits change it under its new name. Every added file gets fresh
// random lines (and symlinks fresh targets) and files are never emptied, so
// git's rename detection pairs only those; folder names never collide with
// file names.
func Generate(dir string, opts Options) (*History, error) {
	if opts.Commits == 0 {
		opts.Commits = 60
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	repo, err := Init(dir)
	if err != nil {
		return nil, err
	}
	g := &generator{
		repo: repo, rng: rand.New(rand.NewSource(opts.Seed)),
		files: make(map[string]*genFile), target: opts.Commits + 1, written: make(map[string]string),
		fileDir: opts.FileDirectory, renamed: make(map[string]bool), wasExec: make(map[string]bool),
	}
	for i := 0; i < 8; i++ {
		g.addText()
	}
	g.addSymlink()
	if err := g.commit("initial"); err != nil {
		return nil, err
	}
	for g.count < g.target {
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	commits, err := repo.Log("main")
	if err != nil {
		return nil, err
	}
	return &History{Repo: repo, Seed: opts.Seed, Commits: commits}, nil
}

type fileKind int

const (
	kindText fileKind = iota
	kindBinary
	kindSymlink
)

// genFile is the generator's model of one file of the work tree.
type genFile struct {
	kind       fileKind
	lines      []string // text: lines without terminators
	eol        string   // text: "\n" or "\r\n"
	noFinalEOL bool     // text: the last line has no terminator
	data       []byte   // binary content or symlink target
	exec       bool
	hot        int // text: index of the last edited line
}

// signature identifies what is on disk for the file.
func (f *genFile) signature() string {
	return fmt.Sprint(f.kind, f.exec) + "\x00" + string(f.content())
}

func (f *genFile) content() []byte {
	switch f.kind {
	case kindText:
		s := strings.Join(f.lines, f.eol)
		if !f.noFinalEOL {
			s += f.eol
		}
		return []byte(s)
	default:
		return f.data
	}
}

type generator struct {
	repo   *Repo
	rng    *rand.Rand
	files  map[string]*genFile
	count  int // commits made
	target int // commits to make
	// written is what sync last wrote to each path, so that unchanged
	// files are not rewritten.
	written map[string]string
	fileDir bool // Options.FileDirectory
	// Paths a rename has touched (either name), and paths that have been
	// executable: the one never becomes executable, the other is never
	// renamed (see rename).
	renamed, wasExec map[string]bool
}

var folders = []string{"", "apps", "apps/web", "apps/api", "infra", "infra/base/config", "clusters/prod"}

// commonLines are shared between files, as boilerplate is in real configs,
// so that the diff algorithms meet repeated lines.
var commonLines = []string{"", "---", "spec:", "metadata:", "  replicas: 1", "  - name: app", "}"}

func (g *generator) word() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[g.rng.Intn(len(letters))]
	}
	return string(b)
}

func (g *generator) line() string {
	if g.rng.Intn(8) == 0 {
		return commonLines[g.rng.Intn(len(commonLines))]
	}
	return strings.Repeat("  ", g.rng.Intn(3)) + g.word() + ": " + g.word()
}

func (g *generator) lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.line()
	}
	return out
}

func (g *generator) newPath(ext string) string {
	for {
		p := strings.TrimPrefix(folders[g.rng.Intn(len(folders))]+"/"+g.word()+ext, "/")
		if _, taken := g.files[p]; !taken && !g.underFile(p) && !g.isFolder(p) {
			return p
		}
	}
}

// underFile reports whether a folder holding p is a file.
func (g *generator) underFile(p string) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := g.files[d]; ok {
			return true
		}
	}
	return false
}

// isFolder reports whether p holds files.
func (g *generator) isFolder(p string) bool {
	for f := range g.files {
		if strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}

// fileDirectoryChange replaces a file by a folder holding a new file, or the
// files of a folder by a file named like the folder.
func (g *generator) fileDirectoryChange() {
	if g.rng.Intn(2) == 0 {
		if p := g.pick(-1); p != "" {
			delete(g.files, p)
			f := &genFile{kind: kindText, lines: g.lines(4 + g.rng.Intn(8)), eol: "\n"}
			g.files[p+"/"+g.word()+".yaml"] = f
			return
		}
	}
	var dirs []string
	seen := make(map[string]bool)
	for p := range g.files {
		if d := path.Dir(p); d != "." && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		g.addText()
		return
	}
	sort.Strings(dirs)
	d := dirs[g.rng.Intn(len(dirs))]
	for p := range g.files {
		if strings.HasPrefix(p, d+"/") {
			delete(g.files, p)
		}
	}
	g.files[d] = &genFile{kind: kindText, lines: g.lines(4 + g.rng.Intn(8)), eol: "\n"}
}

// pick returns a random file of the kind (any kind when kind < 0), or "".
func (g *generator) pick(kind fileKind) string {
	var paths []string
	for p, f := range g.files {
		if kind < 0 || f.kind == kind {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return ""
	}
	sort.Strings(paths)
	return paths[g.rng.Intn(len(paths))]
}

func (g *generator) addText() {
	f := &genFile{kind: kindText, lines: g.lines(4 + g.rng.Intn(16)), eol: "\n"}
	if g.rng.Intn(10) == 0 {
		f.eol = "\r\n"
	}
	f.noFinalEOL = g.rng.Intn(10) == 0
	f.hot = g.rng.Intn(len(f.lines))
	g.files[g.newPath(".yaml")] = f
}

func (g *generator) addSymlink() {
	g.files[g.newPath(".link")] = &genFile{kind: kindSymlink, data: []byte("../" + g.word() + "/" + g.word())}
}

func (g *generator) addBinary() {
	data := make([]byte, 20+g.rng.Intn(40))
	g.rng.Read(data)
	data[g.rng.Intn(len(data))] = 0
	g.files[g.newPath(".bin")] = &genFile{kind: kindBinary, data: data}
}

// editText changes a few lines of a text file, usually close to the lines
// edited last so that successive commits overlap or touch.
func (g *generator) editText(p string) {
	f, ok := g.files[p]
	if !ok {
		g.addText()
		return
	}
	pos := g.rng.Intn(len(f.lines) + 1)
	switch g.rng.Intn(3) {
	case 0: // on or next to the last edit: overlapping or touching
		pos = f.hot + g.rng.Intn(5) - 2
	case 1: // a few lines away: merges cleanly
		pos = f.hot + (3+g.rng.Intn(4))*(1-2*g.rng.Intn(2))
	}
	pos = max(0, min(pos, len(f.lines)))
	n := 1 + g.rng.Intn(2)
	switch op := g.rng.Intn(10); {
	case op < 5 && pos < len(f.lines): // replace
		for k := pos; k < min(pos+n, len(f.lines)); k++ {
			f.lines[k] = g.line()
		}
	case op < 8 || len(f.lines) <= 3: // insert
		f.lines = append(f.lines[:pos], append(g.lines(n), f.lines[pos:]...)...)
	default: // delete, keeping at least three lines
		end := min(pos+n, len(f.lines), pos+len(f.lines)-3)
		if pos >= end {
			pos, end = 0, 1
		}
		f.lines = append(f.lines[:pos], f.lines[end:]...)
	}
	f.hot = min(pos, len(f.lines)-1)
	if g.rng.Intn(30) == 0 {
		f.noFinalEOL = !f.noFinalEOL
	}
}

// rename moves a text file to a new name, as git mv does, sometimes into
// another folder and sometimes with a small edit: at most one line in five
// changes, so that the similarity stays far above the 50% git's rename
// detection needs, where every implementation of it agrees.
//
// Only files that are and were always 100644 are renamed, and renamed files
// never become executable: go-git's rename detection (the embedded GitHub's)
// pairs other modes only when their content is unchanged, where git pairs
// them by similarity too.
func (g *generator) rename() {
	var paths []string
	for p, f := range g.files {
		if f.kind == kindText && !f.exec && !g.wasExec[p] {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		g.addText()
		return
	}
	sort.Strings(paths)
	p := paths[g.rng.Intn(len(paths))]
	f := g.files[p]
	delete(g.files, p)
	to := g.newPath(path.Ext(p))
	if g.rng.Intn(2) == 0 && path.Dir(p) != "." {
		// Same folder, new name.
		for {
			to = path.Dir(p) + "/" + g.word() + path.Ext(p)
			if _, taken := g.files[to]; !taken && !g.isFolder(to) {
				break
			}
		}
	}
	g.files[to] = f
	g.renamed[p], g.renamed[to] = true, true
	if len(f.lines) >= 5 && g.rng.Intn(2) == 0 {
		f.lines[g.rng.Intn(len(f.lines))] = g.line()
	}
}

// pickModeChange returns a text file whose executable bit may flip (one no
// rename has touched, see rename), or "".
func (g *generator) pickModeChange() string {
	var paths []string
	for p, f := range g.files {
		if f.kind == kindText && !g.renamed[p] {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return ""
	}
	sort.Strings(paths)
	return paths[g.rng.Intn(len(paths))]
}

func (g *generator) flipExec(p string) {
	f := g.files[p]
	f.exec = !f.exec
	g.wasExec[p] = true
}

// step makes one commit.
func (g *generator) step() error {
	if g.rng.Intn(12) == 0 {
		g.rename()
		return g.commit(fmt.Sprintf("commit %d", g.count))
	}
	if g.fileDir && g.rng.Intn(8) == 0 {
		g.fileDirectoryChange()
		return g.commit(fmt.Sprintf("commit %d", g.count))
	}
	switch op := g.rng.Intn(100); {
	case op < 8 && g.count > 2:
		// Revert an earlier commit with git, as a user would; when that
		// conflicts, make an ordinary commit instead.
		target := fmt.Sprintf("HEAD~%d", g.rng.Intn(g.count-1))
		if ok, err := g.gitRevert(target); err != nil || ok {
			return err
		}
		g.editText(g.pick(kindText))
	case op < 50:
		g.editText(g.pick(kindText))
	case op < 60:
		for n := 2 + g.rng.Intn(2); n > 0; n-- {
			g.editText(g.pick(kindText))
		}
	case op < 68:
		g.addText()
	case op < 74:
		if p := g.pick(-1); p != "" && len(g.files) > 4 {
			delete(g.files, p)
		}
	case op < 80:
		if p := g.pickModeChange(); p != "" {
			g.flipExec(p)
		}
	case op < 84:
		if p := g.pickModeChange(); p != "" {
			// A mode change together with an edit.
			g.flipExec(p)
			g.editText(p)
		}
	case op < 89:
		if p := g.pick(kindSymlink); p != "" && g.rng.Intn(2) == 0 {
			g.files[p].data = []byte("../" + g.word() + "/" + g.word())
		} else {
			g.addSymlink()
		}
	case op < 93:
		if p := g.pick(kindBinary); p != "" && g.rng.Intn(2) == 0 {
			f := g.files[p]
			f.data = append([]byte{}, f.data...)
			f.data[g.rng.Intn(len(f.data))] ^= byte(1 + g.rng.Intn(255))
		} else {
			g.addBinary()
		}
	case g.count+2 > g.target:
		g.editText(g.pick(kindText))
	default:
		// A change and a manual undo of it in the next commit.
		p := g.pick(kindText)
		f := g.files[p]
		before := append([]string{}, f.lines...)
		g.editText(p)
		if err := g.commit(fmt.Sprintf("change %s", p)); err != nil {
			return err
		}
		f.lines = before
	}
	return g.commit(fmt.Sprintf("commit %d", g.count))
}

// gitRevert reverts sha with git and reports whether it committed.
func (g *generator) gitRevert(sha string) (bool, error) {
	r := g.repo
	r.now += 60
	dates := []string{fmt.Sprintf("GIT_AUTHOR_DATE=%d +0000", r.now), fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", r.now)}
	if _, err := r.gitIn(r.Dir, dates, nil, "revert", "--no-edit", sha); err != nil {
		if _, aerr := r.Git(nil, "revert", "--abort"); aerr != nil {
			// Reverting a change that is already undone stops with
			// "nothing to commit" and leaves no revert to abort.
			if _, rerr := r.Git(nil, "reset", "-q", "--hard", "HEAD"); rerr != nil {
				return false, rerr
			}
		}
		return false, nil
	}
	g.count++
	return true, g.load()
}

// commit writes the model to the work tree and commits it (an unchanged
// tree still makes a commit, so the count of commits is predictable).
func (g *generator) commit(message string) error {
	if err := g.sync(); err != nil {
		return err
	}
	if err := g.repo.commit(message); err != nil {
		return err
	}
	g.count++
	return nil
}

// sync makes the work tree match the model.
func (g *generator) sync() error {
	onDisk := make(map[string]bool)
	err := filepath.WalkDir(g.repo.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(g.repo.Dir, p)
		onDisk[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan work tree: %w", err)
	}
	for p := range onDisk {
		if _, ok := g.files[p]; !ok {
			if err := os.Remove(filepath.Join(g.repo.Dir, p)); err != nil {
				return err
			}
		}
	}
	for p, f := range g.files {
		full := filepath.Join(g.repo.Dir, filepath.FromSlash(p))
		sig := f.signature()
		if onDisk[p] && g.written[p] == sig {
			continue // unchanged: keep git's stat cache valid
		}
		g.written[p] = sig
		if info, err := os.Lstat(full); err == nil && info.IsDir() {
			// A folder whose files were deleted becomes a file.
			if err := os.RemoveAll(full); err != nil {
				return err
			}
		}
		if onDisk[p] {
			if err := os.Remove(full); err != nil {
				return err
			}
		}
		if f.kind == kindSymlink {
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(string(f.data), full); err != nil {
				return err
			}
			continue
		}
		mode := os.FileMode(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := g.repo.writeFile(p, f.content(), mode); err != nil {
			return err
		}
	}
	return nil
}

// load rebuilds the model from the work tree, after git changed it.
func (g *generator) load() error {
	files := make(map[string]*genFile)
	err := filepath.WalkDir(g.repo.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(g.repo.Dir, p)
		rel = filepath.ToSlash(rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files[rel] = &genFile{kind: kindSymlink, data: []byte(target)}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f := &genFile{exec: info.Mode()&0o111 != 0}
		if old, ok := g.files[rel]; ok {
			f.hot = old.hot
		}
		if bytes.IndexByte(data, 0) >= 0 {
			f.kind, f.data = kindBinary, data
		} else {
			f.kind, f.eol = kindText, "\n"
			if bytes.Contains(data, []byte("\r\n")) {
				f.eol = "\r\n"
			}
			s := string(data)
			f.noFinalEOL = !strings.HasSuffix(s, "\n")
			f.lines = strings.Split(strings.TrimSuffix(s, f.eol), f.eol)
			f.hot = min(f.hot, len(f.lines)-1)
		}
		files[rel] = f
		return nil
	})
	if err != nil {
		return fmt.Errorf("read work tree: %w", err)
	}
	g.files = files
	g.written = make(map[string]string, len(files))
	for p, f := range files {
		g.written[p] = f.signature()
	}
	return nil
}
