package gitoracle

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Outcome is how `git revert` ended.
type Outcome int

const (
	// Clean: the revert applied without conflicts and changed the tree.
	Clean Outcome = iota + 1
	// Conflict: git stopped with conflicts.
	Conflict
	// NothingToCommit: the revert applied cleanly but left the head's
	// tree as it was (git revert says "nothing to commit").
	NothingToCommit
)

func (o Outcome) String() string {
	switch o {
	case Clean:
		return "clean"
	case Conflict:
		return "conflict"
	case NothingToCommit:
		return "nothing to commit"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// RevertResult is what git did when reverting a commit on a head.
type RevertResult struct {
	Outcome  Outcome
	Tree     string   // the resulting tree, for Clean and NothingToCommit
	Unmerged []string // the paths git left conflicted, for Conflict
	Output   string   // git's messages
}

// Revert runs `git revert --no-edit --no-commit commit` on a work tree
// checked out at head and reports the outcome. The revert is never
// committed: the outcome and the tree are what the committing revert
// would produce (a clean revert that changes nothing is the "nothing to
// commit" case). Calls are serialized; the repository's own work tree is
// not touched.
func (r *Repo) Revert(commit, head string) (RevertResult, error) {
	r.workMu.Lock()
	defer r.workMu.Unlock()
	if r.work == "" {
		work := filepath.Join(r.Dir, ".git", "oracle-worktree")
		if _, err := r.Git(nil, "worktree", "add", "-q", "--detach", work, head); err != nil {
			return RevertResult{}, fmt.Errorf("create revert worktree: %w", err)
		}
		r.work = work
	}
	if _, err := r.gitIn(r.work, nil, nil, "reset", "-q", "--hard", head); err != nil {
		return RevertResult{}, fmt.Errorf("check out %s: %w", head, err)
	}
	if r.workDir {
		// A conflicted revert can leave files git moved out of the way.
		if _, err := r.gitIn(r.work, nil, nil, "clean", "-fdq"); err != nil {
			return RevertResult{}, fmt.Errorf("clean revert worktree: %w", err)
		}
		r.workDir = false
	}

	out, err := r.gitIn(r.work, nil, nil, "revert", "--no-edit", "--no-commit", commit)
	var gerr *GitError
	if errors.As(err, &gerr) && gerr.ExitCode == 1 {
		r.workDir = true
		unmerged, lerr := r.gitIn(r.work, nil, nil, "diff", "--name-only", "--diff-filter=U", "-z")
		if lerr != nil {
			return RevertResult{}, fmt.Errorf("list unmerged paths: %w", lerr)
		}
		res := RevertResult{Outcome: Conflict, Output: string(out) + gerr.Stderr}
		for _, p := range strings.Split(string(unmerged), "\x00") {
			if p != "" {
				res.Unmerged = append(res.Unmerged, p)
			}
		}
		if len(res.Unmerged) == 0 {
			return RevertResult{}, fmt.Errorf("revert %s on %s failed without conflicts: %w", commit, head, err)
		}
		return res, nil
	}
	if err != nil {
		return RevertResult{}, fmt.Errorf("revert %s on %s: %w", commit, head, err)
	}
	tree, err := r.gitIn(r.work, nil, nil, "write-tree")
	if err != nil {
		return RevertResult{}, fmt.Errorf("write reverted tree: %w", err)
	}
	headTree, err := r.RevParse(head + "^{tree}")
	if err != nil {
		return RevertResult{}, err
	}
	res := RevertResult{Outcome: Clean, Tree: strings.TrimSpace(string(tree)), Output: string(out)}
	if res.Tree == headTree {
		res.Outcome = NothingToCommit
	}
	return res, nil
}

// TreeEdit is one change to a tree: delete Path, or set it to an existing
// blob (SHA) or to new content (Content).
type TreeEdit struct {
	Path    string
	Delete  bool
	Mode    string
	SHA     string
	Content []byte
}

// ApplyTree applies edits in order to tree and writes the resulting tree,
// as the Git Data API's create-tree does with base_tree. Edits that need a
// file where the tree has a directory (or the reverse) fail unless earlier
// edits removed what was in the way.
func (r *Repo) ApplyTree(tree string, edits []TreeEdit) (string, error) {
	r.workMu.Lock()
	defer r.workMu.Unlock()
	index := []string{"GIT_INDEX_FILE=" + filepath.Join(r.Dir, ".git", "oracle-apply-index")}
	if _, err := r.gitIn(r.Dir, index, nil, "read-tree", tree); err != nil {
		return "", fmt.Errorf("read tree %s: %w", tree, err)
	}
	var info bytes.Buffer
	for _, e := range edits {
		switch {
		case e.Delete:
			fmt.Fprintf(&info, "0 %s\t%s\n", strings.Repeat("0", 40), e.Path)
		case e.Content != nil:
			sha, err := r.WriteBlob(e.Content)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&info, "%s %s\t%s\n", e.Mode, sha, e.Path)
		default:
			fmt.Fprintf(&info, "%s %s\t%s\n", e.Mode, e.SHA, e.Path)
		}
	}
	if _, err := r.gitIn(r.Dir, index, info.Bytes(), "update-index", "--index-info"); err != nil {
		return "", fmt.Errorf("apply tree edits: %w", err)
	}
	out, err := r.gitIn(r.Dir, index, nil, "write-tree")
	if err != nil {
		return "", fmt.Errorf("write tree: %w", err)
	}
	newTree := strings.TrimSpace(string(out))

	// update-index silently drops index entries that clash with an added
	// path; create-tree would not, so any path changed beyond the edited
	// ones is an error.
	edited := make(map[string]bool, len(edits))
	for _, e := range edits {
		edited[e.Path] = true
	}
	changed, err := r.Git(nil, "diff-tree", "-r", "-z", "--no-renames", "--name-only", tree, newTree)
	if err != nil {
		return "", fmt.Errorf("compare trees: %w", err)
	}
	for _, p := range strings.Split(string(changed), "\x00") {
		if p != "" && !edited[p] {
			return "", fmt.Errorf("apply tree edits: %s changed although no edit names it (a file/directory clash)", p)
		}
	}
	return newTree, nil
}

// WriteBlob stores content as a blob and returns its id.
func (r *Repo) WriteBlob(content []byte) (string, error) {
	out, err := r.Git(content, "hash-object", "-w", "--stdin")
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
