package gitoracle

import (
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
	headTree, err := r.TreeOf(head)
	if err != nil {
		return RevertResult{}, err
	}
	res := RevertResult{Outcome: Clean, Tree: strings.TrimSpace(string(tree)), Output: string(out)}
	if res.Tree == headTree {
		res.Outcome = NothingToCommit
	}
	return res, nil
}
