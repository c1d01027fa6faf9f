package githubapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fluxrollback/flux-rollback/rollback"
)

var _ rollback.HoldSearch = (*Repo)(nil)

// MergedHolds lists the merged pull requests labelled rollback.HoldLabel,
// the most recently updated first: one request to the issue list filtered
// by label and state (pull requests are issues there), which is cheaper
// than the search API's separate, lower rate limit. go-github v57 does not
// decode pull_request.merged_at, so the answer is read into a struct of our
// own.
func (r *Repo) MergedHolds(ctx context.Context, limit int) ([]rollback.HoldPullRequest, error) {
	q := url.Values{}
	q.Set("labels", rollback.HoldLabel)
	q.Set("state", "closed")
	q.Set("sort", "updated")
	q.Set("direction", "desc")
	q.Set("per_page", fmt.Sprint(min(limit, 100)))
	req, err := r.client.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/issues?%s", r.owner, r.name, q.Encode()), nil)
	if err != nil {
		return nil, err
	}
	var issues []struct {
		Number      int    `json:"number"`
		HTMLURL     string `json:"html_url"`
		Body        string `json:"body"`
		PullRequest *struct {
			MergedAt *string `json:"merged_at"`
		} `json:"pull_request"`
	}
	if _, err := r.client.Do(ctx, req, &issues); err != nil {
		return nil, fmt.Errorf("list pull requests labelled %s: %w", rollback.HoldLabel, err)
	}
	var out []rollback.HoldPullRequest
	for _, is := range issues {
		if is.PullRequest == nil || is.PullRequest.MergedAt == nil {
			continue // an issue, or a pull request closed without merging
		}
		out = append(out, rollback.HoldPullRequest{Number: is.Number, URL: is.HTMLURL, Body: is.Body, MergedAt: *is.PullRequest.MergedAt})
	}
	return out, nil
}
