package rollback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
)

// maxLaterCommits bounds how far after a release the history is searched
// for later releases of its images.
const maxLaterCommits = 100

// History finds what happened on a branch after a commit.
type History interface {
	// CommitsAfter lists, newest first, the commits reachable from head that
	// changed any of paths and are not reachable from since, each with the
	// files it changed; at most limit of them.
	CommitsAfter(ctx context.Context, head, since string, paths []string, limit int) ([]*Commit, error)
}

// Restore puts the image references that req.Commit changed back to the
// values they had before it, on the head of req.Branch: it undoes the
// release and every later release of the same images, and nothing else.
func (s *Service) Restore(ctx context.Context, req Request) (*Outcome, error) {
	if err := s.authorize(ctx, req); err != nil {
		return nil, err
	}
	req.RequireRelease = true
	commit, rel, head, err := s.target(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, ch := range rel.Changes {
		if ch.From == "" {
			// A Flux v1 patch file sets a reference whose earlier value
			// lives in the patched manifest, not in this file.
			return nil, &Refusal{Reason: ReasonUnsupported, Commit: commit.SHA,
				Detail: fmt.Sprintf("%s sets %s in %s, which held no earlier value there; only the exact revert can undo it", commit.SHA[:7], ch.To, ch.File)}
		}
	}
	later, err := s.superseded(ctx, commit, rel, head, req.Detection)
	if err != nil {
		return nil, err
	}
	plan := restorePlan{
		commit: commit, changes: rel.Changes, later: later,
		branch: req.Config.BranchPrefix + commit.SHA[:7] + "-restore",
		marker: restoreMarker(commit.SHA),
	}
	return s.restore(ctx, req, rel, head, plan)
}

// RestoreTo sets image back to tag on the head of req.Branch. The tag must
// be one the image was released with, found among the releases that changed
// it, so that a typo cannot deploy an image that does not exist.
func (s *Service) RestoreTo(ctx context.Context, req Request, image, tag string) (*Outcome, error) {
	if err := s.authorize(ctx, req); err != nil {
		return nil, err
	}
	head, err := s.Repo.Head(ctx, req.Branch, req.Branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s: %w", req.Branch, err)
	}
	commits, err := s.History.CommitsAfter(ctx, head.SHA, "", nil, maxLaterCommits)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", req.Branch, err)
	}
	var history []release.Release
	// The newest release of the image names its references: every one of
	// them it changed (one policy may mark the image in several files).
	var newest []release.ImageChange
	var source *Commit
	for _, c := range commits {
		rel, err := s.detect(ctx, c, req.Detection)
		if err != nil {
			return nil, err
		}
		if rel == nil {
			continue
		}
		history = append(history, *rel)
		if source != nil {
			continue
		}
		for _, ch := range rel.Changes {
			if sameImage(ch.Image, image) {
				newest, source = append(newest, ch), c
			}
		}
	}
	if source == nil {
		return nil, &Refusal{Reason: ReasonNotARelease,
			Detail: fmt.Sprintf("no release of %s among the last %d commits of %s", image, maxLaterCommits, req.Branch)}
	}
	name := newest[0].Image
	if !release.HadTag(history, name, tag) {
		return nil, &Refusal{Reason: ReasonUnknownTag, Commit: source.SHA,
			Detail: fmt.Sprintf("%s was never released with %s; it had: %s", name, tag, strings.Join(release.ImageTags(history, name), ", "))}
	}
	targets := make([]release.ImageChange, 0, len(newest))
	for _, target := range newest {
		// The tag asked for goes with the image's name as it is now.
		target.Replaced = ""
		switch target.Field {
		case release.FieldTag:
			target.From = tag
		case release.FieldImage:
			target.From = target.Image + ":" + tag
		default:
			return nil, &Refusal{Reason: ReasonUnsupported, Commit: source.SHA,
				Detail: fmt.Sprintf("%s is released by %s in %s; only tags can be restored by name", target.Image, target.Field, target.File)}
		}
		targets = append(targets, target)
	}
	plan := restorePlan{
		commit: source, changes: targets,
		branch: req.Config.BranchPrefix + branchSafe(ShortImage(name)+"-"+tag),
		marker: restoreToMarker(name, tag),
	}
	return s.restore(ctx, req, nil, head, plan)
}

// restorePlan is what a restore sets and where it goes.
type restorePlan struct {
	commit  *Commit               // the release being undone, or the newest release of the image
	changes []release.ImageChange // references to set to their From values
	later   *Superseded           // later releases undone too, or nil
	renamed []release.Renamed     // references whose image name changed since the release
	branch  string                // the rollback branch
	marker  string                // the line that identifies this restore's commits
}

// restore edits the files of plan on head and opens the pull request.
func (s *Service) restore(ctx context.Context, req Request, rel *release.Release, head *Head, plan restorePlan) (*Outcome, error) {
	byFile := map[string][]release.ImageChange{}
	var files []string
	for _, ch := range plan.changes {
		if _, ok := byFile[ch.File]; !ok {
			files = append(files, ch.File)
		}
		byFile[ch.File] = append(byFile[ch.File], ch)
	}
	var changes []revert.Change
	var inputs []holdInput
	for _, file := range files {
		content, mode, err := readRegularFile(ctx, s.Repo, head.SHA, file)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		if mode == "" {
			return nil, &Refusal{Reason: ReasonMissingImage, Commit: plan.commit.SHA,
				Detail: fmt.Sprintf("%s no longer exists on %s, so its image references cannot be restored", file, req.Branch)}
		}
		restored, err := release.RestoreFile(content, byFile[file])
		var missing *release.MissingReferenceError
		if errors.As(err, &missing) {
			return nil, &Refusal{Reason: ReasonMissingImage, Commit: plan.commit.SHA, Detail: missing.Error()}
		}
		if err != nil {
			return nil, fmt.Errorf("restore images in %s: %w", file, err)
		}
		if !bytes.Equal(restored.Content, content) {
			changes = append(changes, revert.Change{Path: file, Mode: mode, Content: restored.Content})
			plan.renamed = append(plan.renamed, restored.Renamed...)
			inputs = append(inputs, holdInput{path: file, mode: mode, before: content, after: restored.Content})
		}
	}
	if len(changes) == 0 {
		if out, err := s.existing(ctx, req, plan.commit, rel, plan.branch); out != nil || err != nil {
			return plan.targets(out), err
		}
		return nil, &Refusal{Reason: ReasonNothingToRevert, Commit: plan.commit.SHA,
			Detail: fmt.Sprintf("%s on %s", restoredAlready(plan.changes), req.Branch)}
	}
	var held *holdPlan
	if req.Config.HoldsAutomation() {
		held = planHold(inputs, plan.commit.Message, plan.changes, plan.commit.SHA[:7], req.Requester)
	} else {
		held = unheldPlan(inputs, plan.commit.Message, plan.changes)
	}
	if err := fillKustomizationWorkloads(ctx, s.Repo, head.SHA, inputs, held.hold); err != nil {
		return nil, err
	}
	message := restoreMessage(plan, req.Requester)
	out, err := s.commitAndOpen(ctx, req, plan.commit, rel, head, plan.branch, plan.marker, message, newTree{changes: changes}, held,
		restorePullRequest(plan, req, held))
	return plan.targets(out), err
}

// targets records on out the image references the restore sets.
func (p restorePlan) targets(out *Outcome) *Outcome {
	if out != nil {
		out.Targets = p.changes
		out.Renamed = p.renamed
	}
	return out
}

// superseded finds the later releases of the images rel changed; nil when
// none of them moved on since.
func (s *Service) superseded(ctx context.Context, commit *Commit, rel *release.Release, head *Head, detection release.Options) (*Superseded, error) {
	if s.History == nil || rel == nil {
		return nil, nil
	}
	var paths []string
	for _, ch := range rel.Changes {
		if !slices.Contains(paths, ch.File) {
			paths = append(paths, ch.File)
		}
	}
	commits, err := s.History.CommitsAfter(ctx, head.SHA, commit.SHA, paths, maxLaterCommits)
	if err != nil {
		return nil, fmt.Errorf("read releases after %s: %w", commit.SHA[:7], err)
	}
	laterReleases := make([]*release.Release, len(commits))
	for i, c := range commits {
		if laterReleases[i], err = s.detect(ctx, c, detection); err != nil {
			return nil, err
		}
	}
	var out Superseded
	for _, ch := range rel.Changes {
		moved := MovedImage{Image: ch.Image, Policy: ch.Policy(), Before: ch.From}
		// Oldest first, so the last later release is the one in force.
		for i := len(commits) - 1; i >= 0; i-- {
			c, later := commits[i], laterReleases[i]
			if later == nil {
				continue
			}
			for _, lc := range later.Changes {
				if sameReference(lc, ch) {
					moved.Later = append(moved.Later, LaterRelease{SHA: c.SHA, Tag: lc.To, Date: c.Date})
					moved.Now = lc.To
				}
			}
		}
		if len(moved.Later) > 0 {
			out.add(moved)
		}
	}
	if len(out.Images) == 0 {
		return nil, nil
	}
	return &out, nil
}

// sameReference reports whether two image changes are of the same reference:
// the same file and image policy marker, or the same file and image.
func sameReference(a, b release.ImageChange) bool {
	if a.File != b.File {
		return false
	}
	// One policy's marker may report a tag change once and a whole
	// reference the next time: the policy, not the field, names it.
	if a.Setter != "" || b.Setter != "" {
		return a.Policy() == b.Policy()
	}
	return a.Image == b.Image && a.Field == b.Field
}

// sameImage matches an image by full name or by its last path element.
func sameImage(image, asked string) bool {
	return image == asked || ShortImage(image) == asked
}

// branchSafe keeps characters git allows in a branch name component.
func branchSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), ".-")
}

// newestReleaseDepths are how many of a branch's latest commits
// NewestRelease reads, in turn. Reading a commit's files costs a request,
// and the newest release of an image is usually among the last few commits,
// so the search reaches further back only when it must. The wider reading
// starts again from the head, so it is exact whatever the shape of the
// history, and the client's HTTP cache answers its first commits with 304s.
var newestReleaseDepths = []int{10, maxLaterCommits}

// NewestRelease finds the newest release of image on the head of
// req.Branch, matching the full image name or its last path element. Like
// every rollback it refuses a requester below the minimum role, and does so
// before reading the history, so that the answer to such a requester is the
// same whatever the image.
func (s *Service) NewestRelease(ctx context.Context, req Request, image string) (string, error) {
	if err := s.authorize(ctx, req); err != nil {
		return "", err
	}
	branch := req.Branch
	head, err := s.Repo.Head(ctx, branch, branch)
	if err != nil {
		return "", fmt.Errorf("read branch %s: %w", branch, err)
	}
	searched := 0
	for _, depth := range newestReleaseDepths {
		commits, err := s.History.CommitsAfter(ctx, head.SHA, "", nil, depth)
		if err != nil {
			return "", fmt.Errorf("read history of %s: %w", branch, err)
		}
		for _, c := range commits[min(searched, len(commits)):] {
			rel, err := s.detect(ctx, c, req.Detection)
			if err != nil {
				return "", err
			}
			if rel == nil {
				continue
			}
			for _, ch := range rel.Changes {
				if sameImage(ch.Image, image) {
					return c.SHA, nil
				}
			}
		}
		if len(commits) < depth {
			break // the whole history was read
		}
		searched = len(commits)
	}
	return "", &Refusal{Reason: ReasonNotARelease,
		Detail: fmt.Sprintf("no release of %s among the last %d commits of %s", image, maxLaterCommits, branch)}
}
