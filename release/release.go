// Package release recognises Flux CD image-release commits from their
// GitHub diffs, lists the image references each one changed, and sets those
// references back on a later version of a file. It does no GitHub I/O: the
// caller hands it commits as GitHub's commit API describes them.
package release

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Identity is a commit's author or committer.
type Identity struct{ Name, Email, Login string }

// File is one file of a commit, as GitHub's commit API lists it.
type File struct {
	Path, PreviousPath string
	// Status is GitHub's: added, modified, removed, renamed, copied, changed
	// or unchanged.
	Status string
	// Patch is GitHub's unified-diff hunks for the file, "" when GitHub
	// omitted them (binary file or too large a diff).
	Patch string
	// SHA is the file's blob in the commit ("" when the commit removed it).
	SHA string
}

// Commit is what detection needs to know about one commit.
type Commit struct {
	SHA, Message      string
	Author, Committer Identity
	ParentCount       int
	// Parent is the first parent's SHA ("" for a root commit).
	Parent string
	Files  []File
}

// What an ImageChange changed.
const (
	FieldTag    = "tag"    // the tag, alone or inside a whole reference
	FieldDigest = "digest" // the digest ("sha256:..."), alone or inside a whole reference
	FieldName   = "name"   // the image name (kustomize newName, Helm repository, ":name" setters)
	FieldImage  = "image"  // a whole reference whose name, or tag and digest together, changed
)

// ImageChange is one image reference a release changed.
type ImageChange struct {
	// Image is the image's name, e.g. gcr.io/track-compliance/api-js: the
	// name of a kustomization images: entry, the name in a whole reference
	// (the new one when the name changed) or a Helm repository. It is ""
	// when the diff does not show the name (a tag whose repository line is
	// outside the hunk's context).
	Image string
	// Field is what changed: FieldTag, FieldDigest, FieldName or FieldImage.
	Field string
	// From and To are the old and new tag, digest or name, or whole
	// references when Field is FieldImage.
	From, To string
	// File is the path of the file and Line the line in its new version.
	File string
	Line int
	// Setter is the Flux v2 image policy marker's value exactly as written,
	// e.g. "flux-system:web" or "flux-system:web:tag"; "" without a marker.
	Setter string
	// Replaced is the whole reference the release replaced
	// (name[:tag][@digest]) when the value holds a whole reference: an
	// image: field, or a marker without a form. From may then be only its
	// tag or digest; Restore writes Replaced back, so that a reference
	// whose name changed since the release returns to what ran before it.
	// "" where the value holds a tag, digest or name alone.
	Replaced string
}

// Policy is the "namespace:name" of the Flux v2 image policy that set the
// reference, or "" without a marker.
func (c ImageChange) Policy() string {
	p, _ := splitSetter(c.Setter)
	return p
}

// Release is a commit recognised as an image release.
type Release struct {
	SHA string
	// Generation is 1 for Flux v1 (fluxd) style releases and extra
	// authors/patterns, 2 when every changed line carries a Flux v2 setter.
	Generation int
	// Changes in file and line order.
	Changes []ImageChange
	// Reformatted lists the files whose formatting the release also changed
	// (re-indented, a "---" dropped, a Flux v1 patch file written), found by
	// AnalyzeReading. Reverting the release restores their old formatting
	// too, as git revert would.
	Reformatted []string
}

// Detect returns the release c is, or nil when it is not one. Analyze also
// says why not.
func Detect(c Commit, opts Options) *Release {
	r, _ := Analyze(c, opts)
	return r
}

// fluxV1Message matches the first line of the messages fluxd writes:
// "Auto-release <image>:<tag>", "Auto-release multiple (2) images",
// "Release <image>:<tag> to <workloads>" and "Release all latest to ...".
var fluxV1Message = regexp.MustCompile(`^(?:Auto-release \S|Release \S.* to \S)`)

// Analyze decides whether c is a release. When it is not, it returns nil and
// a one-line reason fit for a debug log.
func Analyze(c Commit, opts Options) (*Release, string) {
	switch {
	case c.ParentCount == 0:
		return nil, "root commit: nothing to roll back to"
	case c.ParentCount > 1:
		return nil, fmt.Sprintf("merge commit (%d parents)", c.ParentCount)
	}
	var changes []ImageChange
	for _, f := range c.Files {
		if opts.Ignores(f.Path) && (f.PreviousPath == "" || opts.Ignores(f.PreviousPath)) {
			continue
		}
		fc, reason := fileChanges(f)
		if reason != "" {
			return nil, reason
		}
		changes = append(changes, fc...)
	}
	if len(changes) == 0 {
		return nil, "changes no image reference outside the ignored paths"
	}
	r := newRelease(c.SHA, changes)
	if r.Generation == 1 && !fluxV1Message.MatchString(firstLine(c.Message)) &&
		!opts.authoredBy(c) && !opts.matchesMessage(c.Message) {
		return nil, "changes only image references, but without Flux v2 setters, and neither a Flux v1 message nor a configured author or message pattern marks it as a release"
	}
	return r, ""
}

// newRelease orders changes by file and line; the release is of Flux v2
// when every change carries a setter marker.
func newRelease(sha string, changes []ImageChange) *Release {
	slices.SortStableFunc(changes, func(a, b ImageChange) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	r := &Release{SHA: sha, Generation: 2, Changes: changes}
	for _, ch := range changes {
		if ch.Setter == "" {
			r.Generation = 1
		}
	}
	return r
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r")
}

// fileChanges lists the image references one file's diff changes, or says
// why the diff is more than that.
func fileChanges(f File) ([]ImageChange, string) {
	if f.Status != "modified" {
		return nil, fmt.Sprintf("%s is %s, not only modified", f.Path, f.Status)
	}
	if !MightHoldImages(f.Path) {
		return nil, fmt.Sprintf("%s is not a YAML file", f.Path)
	}
	if f.Patch == "" {
		return nil, fmt.Sprintf("GitHub omitted the patch of %s (binary or too large), so it cannot be verified to change only image references", f.Path)
	}
	hunks, err := parsePatch(f.Patch)
	if err != nil {
		return nil, fmt.Sprintf("patch of %s: %v", f.Path, err)
	}
	var changes []ImageChange
	for _, h := range hunks {
		hc, reason := hunkChanges(f.Path, h)
		if reason != "" {
			return nil, reason
		}
		changes = append(changes, hc...)
	}
	return changes, ""
}

// hunkChanges pairs each removed line of a hunk with the added line that
// replaces it; every pair must differ only in the value of an image
// reference.
func hunkChanges(file string, h hunk) ([]ImageChange, string) {
	// The new side of the hunk (context and added lines) is the part of the
	// new file detection can see, to find an entry's name or a value's
	// parent key.
	var view []yamlLine
	viewIndex := make([]int, len(h.Lines))
	for i, l := range h.Lines {
		viewIndex[i] = -1
		if l.Kind != lineRemoved {
			viewIndex[i] = len(view)
			view = append(view, parseYAMLLine(l.Text))
		}
	}
	var changes []ImageChange
	for i := 0; i < len(h.Lines); {
		if h.Lines[i].Kind == lineContext {
			i++
			continue
		}
		var removed, added []int
		for ; i < len(h.Lines) && h.Lines[i].Kind != lineContext; i++ {
			if h.Lines[i].Kind == lineRemoved {
				removed = append(removed, i)
			} else {
				added = append(added, i)
			}
		}
		if len(removed) != len(added) {
			return nil, fmt.Sprintf("%s: %d lines removed and %d added near line %d, not only values rewritten",
				file, len(removed), len(added), blockLine(h, removed, added))
		}
		for k := range removed {
			oldLine, newLine := h.Lines[removed[k]], h.Lines[added[k]]
			if oldLine.NoNewline != newLine.NoNewline {
				return nil, fmt.Sprintf("%s line %d: changes the newline at the end of the file", file, newLine.NewLine)
			}
			ch, reason := classify(parseYAMLLine(oldLine.Text), view, viewIndex[added[k]])
			if reason != "" {
				return nil, fmt.Sprintf("%s line %d: %s", file, newLine.NewLine, reason)
			}
			ch.File, ch.Line = file, newLine.NewLine
			changes = append(changes, ch)
		}
	}
	return changes, ""
}

// blockLine is where a block of changed lines sits: the new line number of
// its first added line, or the old one of its first removed line.
func blockLine(h hunk, removed, added []int) int {
	if len(added) > 0 {
		return h.Lines[added[0]].NewLine
	}
	return h.Lines[removed[0]].OldLine
}
