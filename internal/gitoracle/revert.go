package gitoracle

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
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
		gitdir, err := r.gitIn(work, nil, nil, "rev-parse", "--absolute-git-dir")
		if err != nil {
			return RevertResult{}, fmt.Errorf("locate revert worktree: %w", err)
		}
		r.work, r.workGitDir = work, strings.TrimSpace(string(gitdir))
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
	conflicted := errors.As(err, &gerr) && gerr.ExitCode == 1
	if err != nil && !conflicted {
		return RevertResult{}, fmt.Errorf("revert %s on %s: %w", commit, head, err)
	}
	// Reading the index in process saves a git write-tree (or a listing
	// of unmerged paths) per revert.
	tree, unmerged, ierr := r.readWorkIndex()
	if ierr != nil {
		return RevertResult{}, ierr
	}
	if conflicted {
		r.workDir = true
		// Some conflicts leave no unmerged path: a directory the branch
		// split between several new folders ("directory rename split").
		if len(unmerged) == 0 && !strings.Contains(string(out)+gerr.Stderr, "CONFLICT (") {
			return RevertResult{}, fmt.Errorf("revert %s on %s failed without conflicts: %w", commit, head, err)
		}
		return RevertResult{Outcome: Conflict, Unmerged: unmerged, Output: string(out) + gerr.Stderr}, nil
	}
	headTree, err := r.TreeOf(head)
	if err != nil {
		return RevertResult{}, err
	}
	res := RevertResult{Outcome: Clean, Tree: tree, Output: string(out)}
	if res.Tree == headTree {
		res.Outcome = NothingToCommit
	}
	return res, nil
}

// readWorkIndex reads the revert worktree's index: the tree its merged
// entries make, and the paths with unmerged entries.
func (r *Repo) readWorkIndex() (tree string, unmerged []string, err error) {
	f, err := os.Open(filepath.Join(r.workGitDir, "index"))
	if err != nil {
		return "", nil, fmt.Errorf("read revert index: %w", err)
	}
	defer f.Close()
	var idx index.Index
	if err := index.NewDecoder(bufio.NewReader(f)).Decode(&idx); err != nil {
		return "", nil, fmt.Errorf("read revert index: %w", err)
	}
	r.openStore()
	root := &treeNode{mode: "040000", children: map[string]*treeNode{}}
	seen := make(map[string]bool)
	for _, e := range idx.Entries {
		if e.Stage != 0 { // 0 is a merged entry; 1-3 are a conflict's base, ours, theirs
			if !seen[e.Name] {
				seen[e.Name] = true
				unmerged = append(unmerged, e.Name)
			}
			continue
		}
		dir := root
		parts := strings.Split(e.Name, "/")
		for _, name := range parts[:len(parts)-1] {
			child, ok := dir.children[name]
			if !ok {
				child = &treeNode{mode: "040000", children: map[string]*treeNode{}}
				dir.children[name] = child
			}
			dir = child
		}
		dir.children[parts[len(parts)-1]] = &treeNode{mode: fmt.Sprintf("%06o", uint32(e.Mode)), sha: e.Hash.String()}
	}
	if len(unmerged) > 0 {
		return "", unmerged, nil
	}
	if tree, err = r.writeTree(root); err != nil {
		return "", nil, fmt.Errorf("write revert tree: %w", err)
	}
	if tree == "" {
		tree, err = r.writeObject(plumbing.TreeObject, nil)
	}
	return tree, nil, err
}

// MergeRevert answers what Revert answers, faster: it runs the merge that
// git revert runs (base C, ours H, theirs C's parent, all with merge-ort)
// through `git merge-tree --write-tree`, one process per call and no work
// tree. git 2.39's merge-tree has no --merge-base option, so two commits
// are made in process whose only merge base is a parentless commit of C's
// tree. Unmerged lists the conflicted paths; Output is empty.
func (r *Repo) MergeRevert(commit, head string) (RevertResult, error) {
	c, err := r.CommitInfo(commit)
	if err != nil {
		return RevertResult{}, err
	}
	if len(c.Parents) != 1 {
		return RevertResult{}, fmt.Errorf("revert %s: %d parents", commit, len(c.Parents))
	}
	headTree, err := r.TreeOf(head)
	if err != nil {
		return RevertResult{}, err
	}
	parentTree, err := r.TreeOf(c.Parents[0])
	if err != nil {
		return RevertResult{}, err
	}
	r.workMu.Lock()
	r.openStore()
	base, err := r.writeCommit(c.Tree, "")
	var ours, theirs string
	if err == nil {
		ours, err = r.writeCommit(headTree, base)
	}
	if err == nil {
		theirs, err = r.writeCommit(parentTree, base)
	}
	r.workMu.Unlock()
	if err != nil {
		return RevertResult{}, fmt.Errorf("write merge commits: %w", err)
	}

	out, err := r.Git(nil, "merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", ours, theirs)
	var gerr *GitError
	conflicted := errors.As(err, &gerr) && gerr.ExitCode == 1
	if err != nil && !conflicted {
		return RevertResult{}, fmt.Errorf("merge for revert %s on %s: %w", commit, head, err)
	}
	fields := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if conflicted {
		res := RevertResult{Outcome: Conflict}
		seen := make(map[string]bool)
		for _, p := range fields[1:] {
			if p != "" && !seen[p] {
				seen[p] = true
				res.Unmerged = append(res.Unmerged, p)
			}
		}
		return res, nil
	}
	res := RevertResult{Outcome: Clean, Tree: fields[0]}
	if res.Tree == headTree {
		res.Outcome = NothingToCommit
	}
	return res, nil
}

// writeCommit stores a commit of tree with at most one parent, with a fixed
// identity and date so that equal inputs give equal commits.
func (r *Repo) writeCommit(tree, parent string) (string, error) {
	sig := object.Signature{Name: "oracle", Email: "oracle@example.com", When: time.Unix(1700000000, 0).UTC()}
	c := &object.Commit{Author: sig, Committer: sig, Message: "merge side\n", TreeHash: plumbing.NewHash(tree)}
	if parent != "" {
		c.ParentHashes = []plumbing.Hash{plumbing.NewHash(parent)}
	}
	obj := r.store.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", err
	}
	h, err := r.store.SetEncodedObject(obj)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}
