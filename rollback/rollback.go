// Package rollback turns a request to roll back a release commit into a
// branch and a pull request: the exact revert of the commit on the branch
// head, committed through the Git Data API, or a refusal that says why not.
//
// Every step is idempotent so that double clicks, redelivered webhooks and
// retries after a crash all end with one branch and one pull request.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/revert"
)

// Request asks for one rollback.
type Request struct {
	Commit    string // the commit to undo: full or abbreviated SHA
	Branch    string // the branch to apply it on (the default branch)
	Requester string // login of who asked
	Config    repoconfig.Config
	Detection release.Options
	// RequireRelease refuses commits that are not Flux releases.
	RequireRelease bool
	// Cause, for a rollback the App asks for by itself (RevertOnFailure),
	// says why; the pull request quotes it.
	Cause string

	automatic bool
}

// Outcome is a rollback that has a pull request.
type Outcome struct {
	Commit  *Commit
	Release *release.Release // nil when the commit is not a Flux release
	// Targets are the image references the pull request sets, each to its
	// From value; none when the rolled-back commit changed no image.
	Targets []release.ImageChange
	// Renamed are the references of a restore whose image name changed
	// since the release: the restore writes back the whole reference that
	// ran before it, old name included.
	Renamed     []release.Renamed
	Branch      string
	PullRequest *PullRequest
	// Existing is true when the pull request was opened by an earlier
	// request (a double click, a redelivery, a repeated command).
	Existing bool
	// Hold says how the pull request holds Flux's automation of the images
	// it sets back; nil when it sets back no image, or when an earlier
	// request opened it and the rollback no longer applies to the head.
	Hold *Hold
}

// Service performs rollbacks in one repository.
type Service struct {
	Repo        Repository
	Permissions Permissions
	Writer      Writer
	Pulls       PullRequests
	History     History
	// Files, when set, lets release detection read both versions of the
	// files of a Flux commit whose diff is more than rewritten values.
	Files release.FileReader
	// Holds finds the merged pull requests that hold images; nil finds none.
	Holds HoldSearch
}

// detect decides whether c is a release, reading its files only where
// release.AnalyzeReading must.
func (s *Service) detect(ctx context.Context, c *Commit, opts release.Options) (*release.Release, error) {
	rel, _, err := release.AnalyzeReading(ctx, c.Commit, opts, s.Files)
	if err != nil {
		return nil, fmt.Errorf("detect the release %s: %w", c.SHA[:min(7, len(c.SHA))], err)
	}
	return rel, nil
}

// Revert rolls back req.Commit by its exact revert on the head of
// req.Branch. Refusals are returned as *Refusal; any other error is a failure
// to talk to GitHub and may be retried.
func (s *Service) Revert(ctx context.Context, req Request) (*Outcome, error) {
	if err := s.authorize(ctx, req); err != nil {
		return nil, err
	}
	commit, rel, head, err := s.target(ctx, req)
	if err != nil {
		return nil, err
	}

	branch := req.Config.BranchPrefix + commit.SHA[:7]
	marker := revertMarker(commit.SHA)
	memo := newMemoReader(s.Repo)
	tree, err := s.revertTree(ctx, memo, commit, head, !holdNeedsChanges(req, rel))
	if err != nil {
		// The head may have moved on since an earlier request opened the
		// pull request; that pull request is still the answer.
		if out, findErr := s.existing(ctx, req, commit, rel, branch); out != nil || findErr != nil {
			return withTargets(out, rel), findErr
		}
		refusal := refuseRevert(commit.SHA, err)
		var r *Refusal
		if errors.As(refusal, &r) && (r.Reason == ReasonConflict || r.Reason == ReasonNothingToRevert) {
			if r.Superseded, err = s.superseded(ctx, commit, rel, head, req.Detection); err != nil {
				return nil, err
			}
		}
		return nil, refusal
	}

	var targets []release.ImageChange
	generation := 0
	if rel != nil {
		targets, generation = rel.Changes, rel.Generation
	}
	plan, err := s.holdFor(ctx, req, memo, head, tree.changes, commit, targets, generation)
	if err != nil {
		return nil, err
	}
	message := revertMessage(commit, req.Requester)
	out, err := s.commitAndOpen(ctx, req, commit, rel, head, branch, marker, message, tree, plan,
		revertPullRequest(commit, rel, req, branch, plan))
	return withTargets(out, rel), err
}

// newTree is the tree of a rollback commit: changes on the head's tree, or
// an existing tree taken as it is.
type newTree struct {
	changes []revert.Change
	sha     string
}

// revertTree is the tree `git revert commit` produces on head. On the
// branch's tip itself, git's three-way merge (base the commit, ours the
// commit, theirs its parent) gives the parent's tree exactly, so, when
// wholeTree allows it, that tree is read in one request instead of merged
// path by path; the revert engine merges everywhere else.
func (s *Service) revertTree(ctx context.Context, memo *memoReader, commit *Commit, head *Head, wholeTree bool) (newTree, error) {
	if !wholeTree || head.SHA != commit.SHA || len(commit.Parents) != 1 {
		result, err := revert.Revert(ctx, memo.forRevert(), RevertRequest(commit, head.SHA))
		if err != nil {
			return newTree{}, err
		}
		return newTree{changes: result.Changes}, nil
	}
	tree, err := s.Repo.CommitTree(ctx, commit.Parents[0])
	if err != nil {
		return newTree{}, fmt.Errorf("read the tree of %s: %w", commit.Parents[0], err)
	}
	if tree == commit.Tree {
		return newTree{}, revert.ErrNothingToRevert
	}
	return newTree{sha: tree}, nil
}

// holdNeedsChanges reports whether the hold of a rollback of rel reads the
// files the revert changes: to hold their markers, or, with holds off, to
// name a Flux v1 release's workloads in the pull request.
func holdNeedsChanges(req Request, rel *release.Release) bool {
	if rel == nil || len(rel.Changes) == 0 {
		return false
	}
	return req.Config.HoldsAutomation() || rel.Generation == 1
}

// withTargets records on out the image references a revert of rel sets.
func withTargets(out *Outcome, rel *release.Release) *Outcome {
	if out != nil && rel != nil {
		out.Targets = rel.Changes
	}
	return out
}

// authorize refuses users below the configured minimum role.
func (s *Service) authorize(ctx context.Context, req Request) error {
	if req.automatic {
		return nil // the App asks by itself
	}
	role, err := s.Permissions.Role(ctx, req.Requester)
	if err != nil {
		return fmt.Errorf("read permission of %s: %w", req.Requester, err)
	}
	if !repoconfig.RoleAllows(role, req.Config.MinimumRole) {
		return RoleRefusal(req.Requester, role, req.Config.MinimumRole)
	}
	return nil
}

// target reads the commit to undo and the branch head, and checks that the
// commit may be undone there.
func (s *Service) target(ctx context.Context, req Request) (*Commit, *release.Release, *Head, error) {
	var commit *Commit
	commitDone := panics.Go(ctx, "read commit "+req.Commit, func() (err error) {
		commit, err = s.Repo.Commit(ctx, req.Commit)
		return err
	})
	head, headErr := s.Repo.Head(ctx, req.Branch, req.Commit)
	if err := <-commitDone; err != nil {
		if errors.Is(err, ErrAmbiguous) {
			return nil, nil, nil, &Refusal{Reason: ReasonAmbiguous, Detail: fmt.Sprintf("%s names more than one commit; give more of its SHA", req.Commit)}
		}
		if errors.Is(err, ErrNotFound) {
			return nil, nil, nil, &Refusal{Reason: ReasonUnknownCommit, Detail: fmt.Sprintf("no commit %s in this repository", req.Commit)}
		}
		return nil, nil, nil, fmt.Errorf("read commit %s: %w", req.Commit, err)
	}
	if headErr != nil {
		return nil, nil, nil, fmt.Errorf("read branch %s: %w", req.Branch, headErr)
	}
	if !head.Contains {
		return nil, nil, nil, &Refusal{Reason: ReasonNotOnBranch, Commit: commit.SHA,
			Detail: fmt.Sprintf("commit %s is not on branch %s", commit.SHA[:7], req.Branch)}
	}
	if len(commit.Parents) != 1 {
		return nil, nil, nil, &Refusal{Reason: ReasonUnsupported, Commit: commit.SHA,
			Detail: fmt.Sprintf("commit %s has %d parents; only commits with one parent can be reverted", commit.SHA[:7], len(commit.Parents))}
	}
	rel, err := s.detect(ctx, commit, req.Detection)
	if err != nil {
		return nil, nil, nil, err
	}
	if rel == nil && req.RequireRelease {
		return nil, nil, nil, &Refusal{Reason: ReasonNotARelease, Commit: commit.SHA,
			Detail: fmt.Sprintf("commit %s is not a Flux release commit", commit.SHA[:7])}
	}
	return commit, rel, head, nil
}

// existing returns the outcome of an earlier request whose pull request is
// still open, or (nil, nil).
func (s *Service) existing(ctx context.Context, req Request, commit *Commit, rel *release.Release, branch string) (*Outcome, error) {
	pr, err := s.Pulls.FindOpen(ctx, branch, req.Branch)
	if err != nil {
		return nil, fmt.Errorf("find pull request for %s: %w", branch, err)
	}
	if pr != nil {
		return &Outcome{Commit: commit, Release: rel, Branch: branch, PullRequest: pr, Existing: true}, nil
	}
	return nil, nil
}

// commitAndOpen writes the tree and commit, creates the branch and opens the
// pull request, reusing whatever an earlier request already created.
//
// With a hold, the branch carries two commits: the rollback, then the hold
// commit on top of it. Both trees are written at once, from the head's tree.
func (s *Service) commitAndOpen(ctx context.Context, req Request, commit *Commit, rel *release.Release, head *Head,
	branch, marker, message string, newTree newTree, plan *holdPlan, pr NewPullRequest) (*Outcome, error) {
	holding := plan != nil && len(plan.files) > 0
	if holding && newTree.sha != "" {
		return nil, fmt.Errorf("hold the rollback of %s: the hold needs the revert's changes, not a whole tree", commit.SHA[:7])
	}
	tree, holdTree := newTree.sha, ""
	g, gctx := errgroup.WithContext(ctx)
	if tree == "" {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "create tree", &err)
			if tree, err = s.Writer.CreateTree(gctx, head.Tree, newTree.changes); err != nil {
				return fmt.Errorf("create tree: %w", err)
			}
			return nil
		})
	}
	if holding {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "create the hold's tree", &err)
			if holdTree, err = s.Writer.CreateTree(gctx, head.Tree, plan.withHold(newTree.changes)); err != nil {
				return fmt.Errorf("create the hold's tree: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sha, err := s.Writer.CreateCommit(ctx, message, tree, []string{head.SHA})
	if err != nil {
		return nil, fmt.Errorf("create commit: %w", err)
	}
	if holding {
		if sha, err = s.Writer.CreateCommit(ctx, holdMessage(plan.hold, marker, req.Requester), holdTree, []string{sha}); err != nil {
			return nil, fmt.Errorf("create the hold commit: %w", err)
		}
	}
	if err := s.claimBranch(ctx, branch, sha, marker, "rollback", commit.SHA); err != nil {
		return nil, err
	}
	opened, existing, err := s.openPullRequest(ctx, pr)
	switch {
	case errors.Is(err, ErrNoDifference):
		return nil, &Refusal{Reason: ReasonNothingToRevert, Commit: commit.SHA,
			Detail: fmt.Sprintf("branch %s holds nothing that %s does not: the rollback was merged already", branch, req.Branch)}
	case err != nil:
		return nil, err
	}
	p := req.Config.PullRequest
	reviewers, err := s.reviewers(ctx, req, commit)
	if err != nil {
		return nil, err
	}
	labels, teams := p.Labels, p.TeamReviewers
	if holding && !slices.Contains(labels, HoldLabel) {
		labels = append(slices.Clone(labels), HoldLabel)
	}
	if existing {
		// An earlier attempt opened it, and may have stopped before
		// decorating it: add what it lacks.
		labels, reviewers, teams = undecorated(opened, labels, reviewers, teams)
	}
	if err := s.Pulls.Decorate(ctx, opened.Number, labels, reviewers, teams); err != nil {
		return nil, fmt.Errorf("label pull request #%d: %w", opened.Number, err)
	}
	out := &Outcome{Commit: commit, Release: rel, Branch: branch, PullRequest: opened, Existing: existing}
	if plan != nil {
		out.Hold = plan.hold
	}
	return out, nil
}

// claimBranch points the new branch at sha. Where the branch exists
// already (another request won the race, or a crash left it without a pull
// request), it is reused only if its head commit carries marker, the line
// that identifies this very rollback or resume (what); a branch holding
// anything else is refused rather than taken over.
func (s *Service) claimBranch(ctx context.Context, branch, sha, marker, what, commit string) error {
	err := s.Writer.CreateBranch(ctx, branch, sha)
	switch {
	case errors.Is(err, ErrBranchExists):
		existing, err := s.Writer.BranchCommit(ctx, branch)
		if err != nil {
			return fmt.Errorf("read existing branch %s: %w", branch, err)
		}
		if !strings.Contains(existing.Message, marker) {
			return &Refusal{Reason: ReasonBranchTaken, Commit: commit,
				Detail: fmt.Sprintf("branch %s already exists and does not hold this %s; delete or rename it and try again", branch, what)}
		}
		return nil
	case err != nil:
		return fmt.Errorf("create branch %s: %w", branch, err)
	}
	return nil
}

// openPullRequest opens pr, or finds the one an earlier request opened from
// its branch (existing). ErrNoDifference is returned as it is: the branch
// was merged already.
func (s *Service) openPullRequest(ctx context.Context, pr NewPullRequest) (opened *PullRequest, existing bool, err error) {
	opened, err = s.Pulls.Open(ctx, pr)
	switch {
	case errors.Is(err, ErrPullRequestExists):
		opened, err = s.findOpened(ctx, pr.Head, pr.Base)
		return opened, true, err
	case errors.Is(err, ErrNoDifference):
		return nil, false, err
	case err != nil:
		return nil, false, fmt.Errorf("open pull request for %s: %w", pr.Head, err)
	}
	return opened, false, nil
}

// RevertRequest is the revert engine's request to undo commit on head: every
// path the commit touched, and the blobs the commit API already named, so
// that the engine skips reading the commit's own directories where it can.
func RevertRequest(commit *Commit, head string) revert.Request {
	return revert.Request{
		Commit:  commit.SHA,
		Parents: commit.Parents,
		Head:    head,
		Paths:   changedPaths(commit),
		Known:   knownBlobs(commit),
	}
}

// knownBlobs maps each path the commit changed to its blob in the commit
// ("" where the commit removed it or renamed it away), so the revert engine
// can skip reading the commit's directories.
func knownBlobs(c *Commit) map[string]string {
	known := make(map[string]string, len(c.Files))
	for _, f := range c.Files {
		if f.PreviousPath != "" && f.PreviousPath != f.Path {
			known[f.PreviousPath] = ""
		}
	}
	for _, f := range c.Files {
		if f.Status == "removed" || f.SHA != "" {
			known[f.Path] = f.SHA
		}
	}
	return known
}

// changedPaths lists every path the commit touched, both sides of renames.
func changedPaths(c *Commit) []string {
	paths := make([]string, 0, len(c.Files))
	for _, f := range c.Files {
		paths = append(paths, f.Path)
		if f.PreviousPath != "" && f.PreviousPath != f.Path {
			paths = append(paths, f.PreviousPath)
		}
	}
	return paths
}

// lookupRetries are the waits between lookups of a pull request GitHub says
// exists: a pull request another replica opened a moment ago may not be
// listed yet.
var lookupRetries = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second}

// findOpened finds the open pull request for branch that GitHub reported to
// exist, looking again while the list does not show it yet.
func (s *Service) findOpened(ctx context.Context, branch, base string) (*PullRequest, error) {
	for i := 0; ; i++ {
		pr, err := s.Pulls.FindOpen(ctx, branch, base)
		if err != nil {
			return nil, fmt.Errorf("find pull request for %s: %w", branch, err)
		}
		if pr != nil {
			return pr, nil
		}
		if i == len(lookupRetries) {
			return nil, fmt.Errorf("open pull request for %s: GitHub reports one exists but lists none", branch)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("find pull request for %s: %w", branch, ctx.Err())
		case <-time.After(lookupRetries[i]):
		}
	}
}

// undecorated is what an existing pull request lacks of its labels and
// review requests. Decorate adds the labels last, so a pull request with all
// of them is complete; without labels configured, one with any pending
// review request is taken as complete too, so that people who reviewed
// already are not asked again.
func undecorated(pr *PullRequest, labels, reviewers, teams []string) ([]string, []string, []string) {
	missingLabels := missing(labels, pr.Labels)
	if len(labels) > 0 && len(missingLabels) == 0 {
		return nil, nil, nil
	}
	if len(labels) == 0 && (len(pr.Reviewers) > 0 || len(pr.TeamReviewers) > 0) {
		return nil, nil, nil
	}
	return missingLabels, missing(reviewers, pr.Reviewers), missing(teams, pr.TeamReviewers)
}

// missing lists the names of want that have is lacks, ignoring case as
// GitHub does for logins, labels and team slugs.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			out = append(out, w)
		}
	}
	return out
}
