package revert

import (
	"fmt"
	"strings"
)

// ConflictKind says why git revert would stop on a file.
type ConflictKind string

const (
	// ConflictContent: the branch changed the same or adjacent lines that
	// the revert has to restore.
	ConflictContent ConflictKind = "content"
	// ConflictModifyDelete: one side deleted the file, the other changed it.
	ConflictModifyDelete ConflictKind = "modify/delete"
	// ConflictAddAdd: the revert restores a file that the branch has since
	// re-created with other content.
	ConflictAddAdd ConflictKind = "add/add"
	// ConflictMode: the two sides disagree on the file mode, or one made it
	// a symlink and the other a regular file.
	ConflictMode ConflictKind = "mode"
	// ConflictFileDirectory: the result needs a file where the branch has a
	// directory, or a directory where it has a file.
	ConflictFileDirectory ConflictKind = "file/directory"
	// ConflictBinary: both sides changed a binary file (one containing a NUL
	// byte), which git never merges line by line.
	ConflictBinary ConflictKind = "binary"
	// ConflictSymlink: both sides changed a symlink's target differently.
	ConflictSymlink ConflictKind = "symlink"
	// ConflictRenameDelete: the revert deletes a file that the branch has
	// renamed since, or renames back (to its name before the reverted
	// commit) a file that the branch has deleted since.
	ConflictRenameDelete ConflictKind = "rename/delete"
	// ConflictRenameRename: the branch renamed a file that the revert
	// renames too (back to its name before the reverted commit), to
	// another name.
	ConflictRenameRename ConflictKind = "rename/rename"
	// ConflictRenameAdd: one side renamed a file to a name the other side
	// has a file of its own at (the branch renamed a file the revert
	// changes to a name the revert restores, or the revert renames a file
	// the branch changed to a name the branch has added since).
	ConflictRenameAdd ConflictKind = "rename/add"
	// ConflictFileLocation: the revert restores a file into a folder the
	// branch has renamed since (or split between several new folders), so
	// that git's directory rename detection would move it.
	ConflictFileLocation ConflictKind = "file location"
)

// Conservative reports whether the kind is one the engine may report where
// git succeeds: telling a file or folder that one side renamed from one it
// deleted takes that side's renames, and without them (the Reader does not
// implement Renames, or its answer may be partial) the engine refuses,
// marking the conflict Uncertain. A modify/delete is a rename git follows
// when the deleting side renamed the file; rename/delete and file location
// conflicts are clean deletions when it did not.
func (k ConflictKind) Conservative() bool {
	return k == ConflictRenameDelete || k == ConflictFileLocation || k == ConflictModifyDelete
}

// LineRange is a run of lines of one version of a file.
type LineRange struct {
	// Start is the 1-based number of the first line. An empty range sits
	// after line Start (0 means at the top of the file).
	Start int
	Lines []string // with their line terminators
}

// ConflictHunk is one conflicting region of a file, shown the way git's
// diff3 conflict style shows it.
type ConflictHunk struct {
	Base   LineRange // in the reverted commit
	Head   LineRange // on the branch head the revert is applied to
	Parent LineRange // in the reverted commit's parent: what the revert restores
}

// FileConflict is one file git revert would leave conflicted.
type FileConflict struct {
	Path  string
	Kind  ConflictKind
	Hunks []ConflictHunk // for content and add/add conflicts of text files
	// Uncertain marks a conservative refusal (see ConflictKind.Conservative):
	// git's outcome depends on whether a side renamed the file or folder or
	// deleted it, and the engine could not learn which.
	Uncertain bool
}

// ConflictError is returned when git revert would stop with conflicts.
type ConflictError struct {
	Commit string // the commit being reverted
	Head   string // the head it was applied to
	Files  []FileConflict
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Files))
	for i, f := range e.Files {
		parts[i] = fmt.Sprintf("%s (%s)", f.Path, f.Kind)
	}
	return fmt.Sprintf("revert of %s conflicts on %s: %s", shortSHA(e.Commit), shortSHA(e.Head), strings.Join(parts, ", "))
}

// Conservative reports whether every conflicting file is Uncertain: git may
// succeed, and the engine refused because it could not tell a file or folder
// one side renamed from one it deleted.
func (e *ConflictError) Conservative() bool {
	for _, f := range e.Files {
		if !f.Uncertain {
			return false
		}
	}
	return len(e.Files) > 0
}

// UnsupportedError is returned for commits the engine does not revert.
type UnsupportedError struct {
	Commit string
	Path   string // the file concerned, if the reason is about one file
	Reason string
}

func (e *UnsupportedError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("cannot revert %s: %s: %s", shortSHA(e.Commit), e.Path, e.Reason)
	}
	return fmt.Sprintf("cannot revert %s: %s", shortSHA(e.Commit), e.Reason)
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
