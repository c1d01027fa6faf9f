// Package gitoracle is test support: it builds git histories with the real
// git binary and asks git itself what `git revert` does, so that code which
// computes reverts without git can be checked against it.
//
// A Repo runs git with a fixed identity, fixed dates and no user or system
// configuration, so a history generated from a seed has the same commit
// SHAs on every run and no local setting (merge.conflictStyle, a global
// diff.algorithm, ...) can change git's answers.
package gitoracle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is a non-bare repository on disk.
type Repo struct {
	Dir string
	env []string
	// now is the Unix time stamped on the next commit; it only moves
	// forward so that histories are reproducible.
	now int64

	catMu      sync.Mutex
	cat        *exec.Cmd
	catIn      io.WriteCloser
	catOut     *bufio.Reader
	workMu     sync.Mutex
	work       string // worktree used to run reverts
	workGitDir string // its administrative directory, holding its index
	workDir    bool   // work holds leftovers of a conflicted revert

	trees   sync.Map // commit SHA -> tree SHA, from Log
	commits sync.Map // commit SHA -> Commit, from Log

	store *filesystem.Storage // writes the trees ApplyTree builds; under workMu
}

// Init creates an empty repository with branch main in dir, creating dir
// if needed.
func Init(dir string) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	r := Open(dir)
	if _, err := r.Git(nil, "init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	for _, kv := range [][2]string{
		{"gc.auto", "0"}, // objects stay loose and where the readers expect them
		{"core.autocrlf", "false"},
		{"core.symlinks", "true"},
		{"advice.detachedHead", "false"},
	} {
		if _, err := r.Git(nil, "config", kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Open uses an existing repository.
func Open(dir string) *Repo {
	return &Repo{
		Dir: dir,
		env: append(os.Environ(),
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"HOME="+dir,
			"LC_ALL=C",
			"GIT_AUTHOR_NAME=Flux", "GIT_AUTHOR_EMAIL=flux@example.com",
			"GIT_COMMITTER_NAME=Flux", "GIT_COMMITTER_EMAIL=flux@example.com",
		),
		now: 1700000000,
	}
}

// GitError is a failed git command with what it printed.
type GitError struct {
	Args     []string
	ExitCode int
	Stderr   string
}

func (e *GitError) Error() string {
	return fmt.Sprintf("git %s: exit %d: %s", strings.Join(e.Args, " "), e.ExitCode, strings.TrimSpace(e.Stderr))
}

// Git runs git in the repository and returns its standard output.
func (r *Repo) Git(stdin []byte, args ...string) ([]byte, error) {
	return r.gitIn(r.Dir, nil, stdin, args...)
}

func (r *Repo) gitIn(dir string, extraEnv []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, r.env...), extraEnv...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.Bytes(), &GitError{Args: args, ExitCode: exit.ExitCode(), Stderr: stderr.String()}
		}
		return nil, fmt.Errorf("run git %s: %w", strings.Join(args, " "), err)
	}
	return stdout.Bytes(), nil
}

// Commit records the work tree as a commit on the current branch, stamped
// one minute after the previous one, and returns its SHA.
func (r *Repo) Commit(message string) (string, error) {
	if err := r.commit(message); err != nil {
		return "", err
	}
	return r.RevParse("HEAD")
}

func (r *Repo) commit(message string) error {
	if _, err := r.Git(nil, "add", "-A"); err != nil {
		return err
	}
	r.now += 60
	date := fmt.Sprintf("GIT_AUTHOR_DATE=%d +0000", r.now)
	cdate := fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", r.now)
	_, err := r.gitIn(r.Dir, []string{date, cdate}, nil, "commit", "-q", "--allow-empty", "-m", message)
	return err
}

// TreeOf returns the tree of a commit.
func (r *Repo) TreeOf(commit string) (string, error) {
	if tree, ok := r.trees.Load(commit); ok {
		return tree.(string), nil
	}
	tree, err := r.RevParse(commit + "^{tree}")
	if err != nil {
		return "", err
	}
	r.trees.Store(commit, tree)
	return tree, nil
}

// RevParse resolves a revision to a full object id.
func (r *Repo) RevParse(rev string) (string, error) {
	out, err := r.Git(nil, "rev-parse", "--verify", "-q", rev)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Commit describes one commit of a linear history.
type Commit struct {
	SHA     string
	Tree    string
	Parents []string
	// Paths are the paths the commit changed relative to its first
	// parent (every path of its tree for a root commit), without rename
	// detection.
	Paths []string
}

// Log lists the commits reachable from rev along first parents, oldest
// first.
func (r *Repo) Log(rev string) ([]Commit, error) {
	return r.log("--first-parent", "--reverse", rev)
}

// CommitInfo describes one commit.
func (r *Repo) CommitInfo(rev string) (Commit, error) {
	if c, ok := r.commits.Load(rev); ok {
		return c.(Commit), nil
	}
	commits, err := r.log("-1", rev)
	if err != nil {
		return Commit{}, err
	}
	if len(commits) != 1 {
		return Commit{}, fmt.Errorf("no commit %s", rev)
	}
	return commits[0], nil
}

func (r *Repo) log(args ...string) ([]Commit, error) {
	args = append([]string{"log", "--no-renames", "--root", "--name-only", "-z", "--format=%x01%H %T %P"}, args...)
	out, err := r.Git(nil, args...)
	if err != nil {
		return nil, err
	}
	var commits []Commit
	for _, rec := range strings.Split(string(out), "\x01")[1:] {
		header, names, _ := strings.Cut(rec, "\n")
		f := strings.Fields(strings.TrimRight(header, "\x00"))
		if len(f) < 2 {
			return nil, fmt.Errorf("git log: unexpected record %q", rec)
		}
		c := Commit{SHA: f[0], Tree: f[1], Parents: f[2:]}
		for _, p := range strings.Split(names, "\x00") {
			if p = strings.Trim(p, "\n"); p != "" {
				c.Paths = append(c.Paths, p)
			}
		}
		commits = append(commits, c)
		r.trees.Store(c.SHA, c.Tree)
		r.commits.Store(c.SHA, c)
	}
	return commits, nil
}

// ChangedPaths lists the paths commit changed against its first parent.
func (r *Repo) ChangedPaths(commit string) ([]string, error) {
	out, err := r.Git(nil, "diff-tree", "-r", "-z", "--no-renames", "--root", "--no-commit-id", "--name-only", commit)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// TreeEntry is one entry of a git tree.
type TreeEntry struct {
	Mode string // six digits: "100644", "100755", "120000", "160000", "040000"
	SHA  string
}

// ReadDir lists directory dir ("" for the root) of commit. A directory that
// does not exist, or is not a directory, yields an empty map.
// It is safe for concurrent use.
func (r *Repo) ReadDir(commit, dir string) (map[string]TreeEntry, error) {
	spec := commit + "^{tree}"
	if dir != "" {
		spec = commit + ":" + dir
	}
	typ, data, err := r.catFile(spec)
	if err != nil {
		return nil, err
	}
	if typ == "missing" && dir != "" {
		// Tell a missing directory from a missing commit.
		if typ, _, err = r.catFile(commit + "^{tree}"); err != nil {
			return nil, err
		}
	}
	if typ == "missing" {
		return nil, fmt.Errorf("read directory %q of %s: no such commit", dir, commit)
	}
	if typ != "tree" {
		return map[string]TreeEntry{}, nil
	}
	return parseTree(spec, data)
}

// parseTree decodes a tree object.
func parseTree(name string, data []byte) (map[string]TreeEntry, error) {
	entries := make(map[string]TreeEntry)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+21 {
			return nil, fmt.Errorf("read tree %s: malformed entry", name)
		}
		mode := string(data[:sp])
		if len(mode) == 5 {
			mode = "0" + mode
		}
		entries[string(data[sp+1:nul])] = TreeEntry{Mode: mode, SHA: fmt.Sprintf("%x", data[nul+1:nul+21])}
		data = data[nul+21:]
	}
	return entries, nil
}

// ReadBlob returns the content of a blob. It is safe for concurrent use.
func (r *Repo) ReadBlob(sha string) ([]byte, error) {
	typ, data, err := r.catFile(sha)
	if err != nil {
		return nil, err
	}
	if typ != "blob" {
		return nil, fmt.Errorf("read blob %s: object is missing or a %s", sha, typ)
	}
	return data, nil
}

// catFile reads one object through a long-running `git cat-file --batch`,
// which is far cheaper than a process per object. typ is "missing" when
// there is no such object.
func (r *Repo) catFile(spec string) (typ string, data []byte, err error) {
	r.catMu.Lock()
	defer r.catMu.Unlock()
	if r.cat == nil {
		cmd := exec.Command("git", "cat-file", "--batch")
		cmd.Dir = r.Dir
		cmd.Env = r.env
		in, err := cmd.StdinPipe()
		if err != nil {
			return "", nil, fmt.Errorf("start git cat-file: %w", err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return "", nil, fmt.Errorf("start git cat-file: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return "", nil, fmt.Errorf("start git cat-file: %w", err)
		}
		r.cat, r.catIn, r.catOut = cmd, in, bufio.NewReader(out)
	}
	if strings.ContainsAny(spec, "\n") {
		return "", nil, fmt.Errorf("read object %q: newline in name", spec)
	}
	if _, err := io.WriteString(r.catIn, spec+"\n"); err != nil {
		return "", nil, fmt.Errorf("read object %s: %w", spec, err)
	}
	header, err := r.catOut.ReadString('\n')
	if err != nil {
		return "", nil, fmt.Errorf("read object %s: %w", spec, err)
	}
	f := strings.Fields(header)
	if len(f) == 2 && f[1] == "missing" {
		return "missing", nil, nil
	}
	if len(f) != 3 {
		return "", nil, fmt.Errorf("read object %s: unexpected header %q", spec, header)
	}
	size, err := strconv.Atoi(f[2])
	if err != nil {
		return "", nil, fmt.Errorf("read object %s: unexpected header %q", spec, header)
	}
	data = make([]byte, size+1) // content and its trailing newline
	if _, err := io.ReadFull(r.catOut, data); err != nil {
		return "", nil, fmt.Errorf("read object %s: %w", spec, err)
	}
	return f[1], data[:size], nil
}

// Close stops the helper processes and removes the revert worktree.
func (r *Repo) Close() error {
	r.catMu.Lock()
	defer r.catMu.Unlock()
	var errs []error
	if r.cat != nil {
		r.catIn.Close()
		errs = append(errs, r.cat.Wait())
		r.cat = nil
	}
	if r.work != "" {
		if _, err := r.Git(nil, "worktree", "remove", "--force", r.work); err != nil {
			errs = append(errs, err)
		}
		r.work = ""
	}
	return errors.Join(errs...)
}

// File is the content of a path in a scripted commit.
type File struct {
	Content string
	// Mode is "100644" when empty, "100755", or "120000" for a symlink
	// whose target is Content.
	Mode string
}

// CommitFiles changes the work tree and commits it: every path of files is
// written, or deleted (with anything under it) when its File is nil.
// Deletions happen first, so one commit can turn a file into a directory
// or the reverse.
func (r *Repo) CommitFiles(message string, files map[string]*File) (string, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if files[p] == nil {
			if err := os.RemoveAll(filepath.Join(r.Dir, filepath.FromSlash(p))); err != nil {
				return "", fmt.Errorf("delete %s: %w", p, err)
			}
		}
	}
	for _, p := range paths {
		f := files[p]
		if f == nil {
			continue
		}
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.RemoveAll(full); err != nil {
			return "", fmt.Errorf("replace %s: %w", p, err)
		}
		switch f.Mode {
		case "", "100644":
			err := r.writeFile(p, []byte(f.Content), 0o644)
			if err != nil {
				return "", fmt.Errorf("write %s: %w", p, err)
			}
		case "100755":
			if err := r.writeFile(p, []byte(f.Content), 0o755); err != nil {
				return "", fmt.Errorf("write %s: %w", p, err)
			}
		case "120000":
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return "", err
			}
			if err := os.Symlink(f.Content, full); err != nil {
				return "", fmt.Errorf("link %s: %w", p, err)
			}
		default:
			return "", fmt.Errorf("write %s: unsupported mode %s", p, f.Mode)
		}
	}
	return r.Commit(message)
}

// writeFile writes a file of the work tree, creating its directories.
func (r *Repo) writeFile(rel string, data []byte, mode os.FileMode) error {
	p := filepath.Join(r.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	// WriteFile keeps the mode of an existing file.
	return os.Chmod(p, mode)
}

// Renames returns old path -> new path for the files git's rename detection
// pairs between two commits (`git diff -M base head`, at git's default 50%
// similarity), the renames a merge of the two sees.
func (r *Repo) Renames(base, head string) (map[string]string, error) {
	out, err := r.Git(nil, "diff", "-M", "--name-status", "-z", base, head)
	if err != nil {
		return nil, err
	}
	renames := make(map[string]string)
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i := 0; i < len(fields) && fields[i] != ""; {
		status := fields[i]
		if status[0] == 'R' || status[0] == 'C' {
			if i+2 >= len(fields) {
				return nil, fmt.Errorf("git diff -M %s %s: truncated output", base, head)
			}
			if status[0] == 'R' {
				renames[fields[i+1]] = fields[i+2]
			}
			i += 3
			continue
		}
		i += 2
	}
	return renames, nil
}
