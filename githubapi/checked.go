package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/report"
)

// Creations that GitHub does not deduplicate (check runs, comments) are not
// repeated blindly when their outcome is unknown: the transport gives up on
// them (ErrOutcomeUnknown, or a 5xx answer), and the adapter looks for what
// the lost attempt would have made before trying again.

// maxCheckedAttempts bounds the create-then-look rounds of one creation.
const maxCheckedAttempts = 3

// lookBack is how far before the first attempt a found object may have been
// made and still count as that attempt's (clocks of GitHub and the app
// differ a little).
const lookBack = 2 * time.Minute

// outcomeUnknown reports whether a creation may have happened although it
// failed.
func outcomeUnknown(err error) bool {
	if errors.Is(err, ErrOutcomeUnknown) {
		return true
	}
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= http.StatusInternalServerError
}

// createChecked runs create; when its outcome is unknown it asks find
// whether the creation landed, and creates again only when it did not.
func createChecked[T any](ctx context.Context, create func() (T, error), find func() (T, bool, error)) (T, error) {
	var zero T
	var err error
	for range maxCheckedAttempts {
		var made T
		made, err = create()
		if err == nil || !outcomeUnknown(err) || ctx.Err() != nil {
			return made, err
		}
		found, ok, ferr := find()
		if ferr != nil {
			return zero, errors.Join(err, fmt.Errorf("look for the lost creation: %w", ferr))
		}
		if ok {
			return found, nil
		}
	}
	return zero, err
}

// findCheckRun looks for a check run the app made on sha that shows exactly o.
func (r *Repo) findCheckRun(ctx context.Context, sha string, o report.CheckRun, since time.Time) (int64, bool, error) {
	out, _ := checkRunOutput(o)
	opts := &github.ListCheckRunsOptions{CheckName: github.String(checkRunName(o)), Filter: github.String("all"),
		ListOptions: github.ListOptions{PerPage: 100}}
	res, _, err := r.client.Checks.ListCheckRunsForRef(ctx, r.owner, r.name, sha, opts)
	if err != nil {
		return 0, false, fmt.Errorf("list check runs of %s: %w", sha, err)
	}
	for _, run := range res.CheckRuns {
		if run.GetHeadSHA() != sha || run.GetExternalID() != o.ExternalID ||
			run.GetOutput().GetTitle() != out.GetTitle() || run.GetOutput().GetSummary() != out.GetSummary() {
			continue
		}
		if started := run.GetStartedAt(); !started.IsZero() && started.Before(since) {
			continue
		}
		return run.GetID(), true, nil
	}
	return 0, false, nil
}

// findIssueComment looks for a comment by a bot on issue number with body.
func (r *Repo) findIssueComment(ctx context.Context, number int, body string, since time.Time) (bool, error) {
	opts := &github.IssueListCommentsOptions{Since: &since, ListOptions: github.ListOptions{PerPage: 100}}
	found, err := findBotComment(body, since, func(page int) ([]*github.IssueComment, *github.Response, error) {
		opts.Page = page
		return r.client.Issues.ListComments(ctx, r.owner, r.name, number, opts)
	})
	if err != nil {
		return false, fmt.Errorf("list comments of #%d: %w", number, err)
	}
	return found, nil
}

// findCommitComment looks for a comment by a bot on commit sha with body.
func (r *Repo) findCommitComment(ctx context.Context, sha, body string, since time.Time) (bool, error) {
	opts := &github.ListOptions{PerPage: 100}
	found, err := findBotComment(body, since, func(page int) ([]*github.RepositoryComment, *github.Response, error) {
		opts.Page = page
		return r.client.Repositories.ListCommitComments(ctx, r.owner, r.name, sha, opts)
	})
	if err != nil {
		return false, fmt.Errorf("list comments of commit %s: %w", sha, err)
	}
	return found, nil
}

// comment is what issue and commit comments have in common.
type comment interface {
	GetBody() string
	GetUser() *github.User
	GetCreatedAt() github.Timestamp
}

// findBotComment pages through list (at most 10 pages of 100) for a comment
// by a bot with body, made at or after since.
func findBotComment[C comment](body string, since time.Time, list func(page int) ([]C, *github.Response, error)) (bool, error) {
	page := 0
	for range 10 {
		comments, resp, err := list(page)
		if err != nil {
			return false, err
		}
		for _, c := range comments {
			if c.GetBody() == body && c.GetUser().GetType() == "Bot" && !c.GetCreatedAt().Before(since) {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		page = resp.NextPage
	}
	return false, nil
}
