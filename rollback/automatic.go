package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// Automatic rollbacks: the App opens a release's rollback pull request by
// itself, because Flux reported the release failing. Nobody's role is
// checked, the pull request quotes the failure, and the people who made the
// release are asked to review it besides the configured reviewers. It is
// never merged by the App.

// ErrRolledBackBefore is returned by RevertOnFailure when the release already
// has a rollback pull request, open, closed or merged: a person (or an
// earlier failure) rolled it back, or decided not to.
var ErrRolledBackBefore = errors.New("the release has a rollback pull request already")

// PastPullRequests finds the pull requests of earlier rollbacks.
type PastPullRequests interface {
	// AnyFrom returns the newest pull request from the branch head into
	// base, open, closed or merged, or nil when there is none.
	AnyFrom(ctx context.Context, head, base string) (*PullRequest, error)
}

// RevertOnFailure opens the rollback pull request of req.Commit, a release
// Flux reports failing, unless the release has one already: then it returns
// ErrRolledBackBefore, wrapped with the pull request found. req.Cause says
// why, and req.Requester is the App's own account.
func (s *Service) RevertOnFailure(ctx context.Context, req Request, past PastPullRequests) (*Outcome, error) {
	req.automatic = true
	for _, suffix := range []string{"", restoreBranchSuffix} {
		head := req.Config.BranchPrefix + shortSHA(req.Commit) + suffix
		pr, err := past.AnyFrom(ctx, head, req.Branch)
		if err != nil {
			return nil, fmt.Errorf("find earlier rollbacks from %s: %w", head, err)
		}
		if pr != nil {
			return nil, fmt.Errorf("#%d from %s: %w", pr.Number, head, ErrRolledBackBefore)
		}
	}
	return s.Revert(ctx, req)
}

// restoreBranchSuffix ends the branch of a release's Restore.
const restoreBranchSuffix = "-restore"

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// reviewers are the configured reviewers and, for an automatic rollback, the
// accounts that authored and committed the release, where they can review:
// GitHub refuses a request to anyone who is not a collaborator, and the whole
// request with it, while it reports the read role for anyone on a public
// repository; the write role is what tells a collaborator.
func (s *Service) reviewers(ctx context.Context, req Request, commit *Commit) ([]string, error) {
	out := slices.Clone(req.Config.PullRequest.Reviewers)
	if !req.automatic {
		return out, nil
	}
	for _, id := range []string{commit.Author.Login, commit.Committer.Login} {
		if id == "" || strings.EqualFold(id, req.Requester) || slices.ContainsFunc(out, func(r string) bool { return strings.EqualFold(r, id) }) {
			continue
		}
		role, err := s.Permissions.Role(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read permission of %s: %w", id, err)
		}
		if repoconfig.RoleAllows(role, repoconfig.RoleWrite) {
			out = append(out, id)
		}
	}
	return out, nil
}

// causeQuote is the pull request body's opening for an automatic rollback.
func causeQuote(req Request) string {
	if req.Cause == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(req.Cause, "\n"), "\n") {
		b.WriteString(strings.TrimRight("> "+line, " "))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}
