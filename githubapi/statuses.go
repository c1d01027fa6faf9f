package githubapi

import (
	"context"
	"fmt"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fluxstatus"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

var _ fluxstatus.Reader = (*Repo)(nil)

// BranchCommits lists the SHAs of branch's history from its head, newest
// first: one request of at most 100.
func (r *Repo) BranchCommits(ctx context.Context, branch string, limit int) ([]string, error) {
	commits, _, err := r.client.Repositories.ListCommits(ctx, r.owner, r.name, &github.CommitsListOptions{
		SHA: branch, ListOptions: github.ListOptions{PerPage: min(limit, 100)},
	})
	if err != nil {
		return nil, fmt.Errorf("list commits of %s: %w", branch, err)
	}
	out := make([]string, 0, len(commits))
	for _, c := range commits {
		out = append(out, c.GetSHA())
	}
	return out[:min(limit, len(out))], nil
}

// maxStatusContexts is how many contexts one combined status request reads;
// a commit with more is read in part.
const maxStatusContexts = 100

// LatestStatuses returns the latest status of each context on sha, from the
// combined status: one request.
func (r *Repo) LatestStatuses(ctx context.Context, sha string) ([]fluxstatus.Status, error) {
	combined, _, err := r.client.Repositories.GetCombinedStatus(ctx, r.owner, r.name, sha, &github.ListOptions{PerPage: maxStatusContexts})
	if err != nil {
		return nil, fmt.Errorf("read the statuses of %s: %w", sha, err)
	}
	out := make([]fluxstatus.Status, 0, len(combined.Statuses))
	for _, s := range combined.Statuses {
		out = append(out, fluxstatus.Status{
			Context: s.GetContext(), State: s.GetState(), Description: s.GetDescription(), TargetURL: s.GetTargetURL(),
			Time: s.GetUpdatedAt().Time, Commit: sha,
		})
	}
	return out, nil
}

// ShownCheckRun is a check run and what it shows now.
type ShownCheckRun struct {
	ID int64
	report.CheckRun
}

// LatestCheckRun returns the App's latest check run called name on sha with
// its title and summary, or nil when there is none: one request.
func (r *Repo) LatestCheckRun(ctx context.Context, appID int64, sha, name string) (*ShownCheckRun, error) {
	res, _, err := r.client.Checks.ListCheckRunsForRef(ctx, r.owner, r.name, sha, &github.ListCheckRunsOptions{
		CheckName: github.String(name), AppID: github.Int64(appID), Filter: github.String("latest"),
		ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil {
		return nil, fmt.Errorf("list check runs of %s: %w", sha, err)
	}
	if len(res.CheckRuns) == 0 {
		return nil, nil
	}
	run := res.CheckRuns[0]
	return &ShownCheckRun{ID: run.GetID(), CheckRun: report.CheckRun{
		Name: run.GetName(), Status: run.GetStatus(), Conclusion: run.GetConclusion(),
		Title: run.GetOutput().GetTitle(), Summary: run.GetOutput().GetSummary(), ExternalID: run.GetExternalID(),
	}}, nil
}

var _ rollback.PastPullRequests = (*Repo)(nil)

// AnyFrom returns the newest pull request from head into base in any state,
// or nil: one request.
func (r *Repo) AnyFrom(ctx context.Context, head, base string) (*rollback.PullRequest, error) {
	prs, _, err := r.client.PullRequests.List(ctx, r.owner, r.name, &github.PullRequestListOptions{
		State: "all", Head: r.owner + ":" + head, Base: base, ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s: %w", head, err)
	}
	if len(prs) == 0 {
		return nil, nil
	}
	return &rollback.PullRequest{Number: prs[0].GetNumber(), URL: prs[0].GetHTMLURL(), Merged: !prs[0].GetMergedAt().IsZero()}, nil
}
