// Package revert computes the tree that `git revert` of one commit produces on
// a later head, without a clone: it reads only the directories along the paths
// the reverted commit changed, and reports a typed refusal where git would stop.
//
// A revert of C on H is git's three-way merge with C as the base, H as ours
// and C's parent as theirs. Revert resolves each changed path as merge-ort
// does and merges file contents line by line as git's xdiff does: histogram
// diff (falling back to xdiff's Myers on highly repetitive regions), change
// compaction, overlapping or touching hunks conflicting unless identical,
// and the "zealous" narrowing of conflicts. The diff and merge are written
// here rather than taken from a library because the result must be git's to
// the byte and to the conflict: the Go diff libraries available (sergi/go-diff,
// pmezard/go-difflib) implement other diff algorithms, whose hunks differ from
// git's on repeated lines, and no Go diff3 library on the module proxy follows
// git's merge rules. The implementation is checked against the git binary:
// the diff against `git diff`, the merge against `git merge-file`, and whole
// reverts against `git revert` on generated histories.
//
// Renames: where one side of the merge removed a file that the other
// changed (modify/delete) or also removed, or the branch removed a folder
// the revert restores a file into, git's outcome depends on whether the
// file or folder was renamed. The engine then asks the Reader, if it
// implements Renames, for the renames of each side at most once (the
// branch's between C and H; the reverted commit's own between C's parent and C, only
// if C removed a file) and decides as merge-ort's rename and directory
// rename detection do: a file the branch renamed and the revert changes is
// merged at its new name; a file C renamed and the branch changed since
// goes back to its old name with the branch's changes merged in; a file
// renamed on one side and deleted on the other is a rename/delete
// conflict, one both renamed differently a rename/rename conflict, one
// renamed onto a name the other side has a file at a rename/add conflict;
// and where the revert moves files out of a folder the reverted commit
// created, the files the branch added there since conflict on their
// location. The common case makes no such request.
//
// Known differences from git, all in the direction of refusing: without
// Renames, or with a partial answer (a comparison of more than 300 files on
// GitHub), the engine refuses the cases above with an Uncertain conflict
// (ConflictError.Conservative), though a conflict that follows from not
// knowing (an add/add where both sides renamed a file to the same name, a
// file/directory where the revert moves a file back over the folder it was
// moved into) is reported as certain. .gitattributes merge drivers
// and end-of-line conversions are ignored.
package revert

import (
	"context"
	"errors"
)

// Entry is one directory entry of a git tree. The zero Entry means "absent".
type Entry struct {
	Mode string // git's octal mode: "100644", "100755", "120000", "160000", "040000"
	SHA  string // blob, tree or commit object id
}

// Exists reports whether the entry is present.
func (e Entry) Exists() bool { return e.Mode != "" }

// Reader is what the engine needs to read from a repository.
type Reader interface {
	// Dir lists the entries directly inside directory dir ("" is the root)
	// of commit, keyed by name. A directory that does not exist in that
	// commit (or is a file there) yields an empty map and no error.
	Dir(ctx context.Context, commit, dir string) (map[string]Entry, error)
	// Blob returns the content of a blob.
	Blob(ctx context.Context, sha string) ([]byte, error)
}

// Request names the commit to revert and where to apply the revert.
type Request struct {
	Commit  string   // the commit C to revert
	Parents []string // C's parents; exactly one is supported
	Head    string   // the branch head H the revert is applied on
	Paths   []string // every path C changed (both sides of a rename)
	// Known optionally gives, for paths C changed, the blob SHA each has in
	// C ("" where C removed the path), as GitHub's commit API lists them.
	// The engine then reads C's directory for a path only when the file
	// mode in C could change the outcome, which saves a request per
	// directory in the common case. Paths missing here are read from C.
	Known map[string]string
}

// Change is one tree entry of the result, relative to Head's tree. It maps
// onto the Git Data API's create-tree entries with base_tree = Head's tree.
type Change struct {
	Path    string
	Delete  bool   // remove Path (tree entry with sha null)
	Mode    string // mode of the new entry when not Delete
	SHA     string // existing blob to reuse, or "" when Content is set
	Content []byte // merged content that must be uploaded; nil when SHA is set
}

// Result is the revert as a set of changes to Head's tree.
type Result struct {
	Changes []Change
}

// Renames is implemented by readers that can report the renames git's
// rename detection finds between two commits. The engine asks only when its
// answer depends on them (see ConflictKind.Conservative), at most once per
// pair of commits in a Revert: the reverted commit and the head, and the
// reverted commit's parent and the commit.
type Renames interface {
	// RenamedSince returns old path -> new path for the files renamed
	// between base and head (git diff -M base head), and complete=false
	// when the answer may be partial (GitHub lists at most 300 files of a
	// comparison).
	RenamedSince(ctx context.Context, base, head string) (renames map[string]string, complete bool, err error)
}

// ErrNothingToRevert means the result equals Head's tree: the change is
// already undone on Head (git revert stops with "nothing to commit").
var ErrNothingToRevert = errors.New("nothing to revert: the change is already undone on the branch")
