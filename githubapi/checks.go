package githubapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/report"
)

// checkRunOutput maps a check run onto go-github's output and actions.
func checkRunOutput(o report.CheckRun) (*github.CheckRunOutput, []*github.CheckRunAction) {
	out := &github.CheckRunOutput{Title: github.String(o.Title), Summary: github.String(fitBody(o.Summary))}
	if o.Text != "" {
		out.Text = github.String(fitBody(o.Text))
	}
	// A nil slice leaves the actions as they were; an empty one removes them.
	actions := make([]*github.CheckRunAction, 0, len(o.Actions))
	for _, a := range o.Actions {
		actions = append(actions, &github.CheckRunAction{Label: a.Label, Identifier: a.Identifier, Description: a.Description})
	}
	return out, actions
}

// checkRunName is o's name, report.CheckRunName when it has none.
func checkRunName(o report.CheckRun) string {
	if o.Name == "" {
		return report.CheckRunName
	}
	return o.Name
}

// FindCheckRun returns the ID of the App's latest check run called name
// (report.CheckRunName when empty) on sha, or 0 when there is none.
func (r *Repo) FindCheckRun(ctx context.Context, appID int64, sha, name string) (int64, error) {
	if name == "" {
		name = report.CheckRunName
	}
	res, _, err := r.client.Checks.ListCheckRunsForRef(ctx, r.owner, r.name, sha, &github.ListCheckRunsOptions{
		CheckName: github.String(name), AppID: github.Int64(appID), Filter: github.String("latest"),
		ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil {
		return 0, fmt.Errorf("list check runs of %s: %w", sha, err)
	}
	if len(res.CheckRuns) == 0 {
		return 0, nil
	}
	return res.CheckRuns[0].GetID(), nil
}

// CreateCheckRun creates a check run on sha.
func (r *Repo) CreateCheckRun(ctx context.Context, sha string, o report.CheckRun) (int64, error) {
	out, actions := checkRunOutput(o)
	opts := github.CreateCheckRunOptions{
		Name: checkRunName(o), HeadSHA: sha, Status: github.String(o.Status), Output: out, Actions: actions,
	}
	if o.Conclusion != "" {
		opts.Conclusion = github.String(o.Conclusion)
	}
	if o.ExternalID != "" {
		opts.ExternalID = github.String(o.ExternalID)
	}
	since := time.Now().Add(-lookBack)
	id, err := createChecked(ctx, func() (int64, error) {
		run, _, err := r.client.Checks.CreateCheckRun(ctx, r.owner, r.name, opts)
		return run.GetID(), err
	}, func() (int64, bool, error) {
		return r.findCheckRun(ctx, sha, o, since)
	})
	if err != nil {
		return 0, fmt.Errorf("create check run on %s: %w", sha, err)
	}
	return id, nil
}

// UpdateCheckRun replaces what check run id shows.
func (r *Repo) UpdateCheckRun(ctx context.Context, id int64, o report.CheckRun) error {
	out, actions := checkRunOutput(o)
	opts := github.UpdateCheckRunOptions{Name: checkRunName(o), Status: github.String(o.Status), Output: out, Actions: actions}
	if o.Conclusion != "" {
		opts.Conclusion = github.String(o.Conclusion)
	}
	// go-github's omitempty drops an empty list, and GitHub would then keep
	// the buttons an earlier update put there (a Roll back button on a
	// refusal). Nil actions leave the buttons as they are; an empty list is
	// sent as one and removes them.
	var body any = opts
	if o.Actions != nil {
		body = struct {
			github.UpdateCheckRunOptions
			Actions []*github.CheckRunAction `json:"actions"`
		}{opts, actions}
	}
	req, err := r.client.NewRequest(http.MethodPatch, fmt.Sprintf("repos/%s/%s/check-runs/%d", r.owner, r.name, id), body)
	if err != nil {
		return fmt.Errorf("update check run %d: %w", id, err)
	}
	if _, err := r.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("update check run %d: %w", id, err)
	}
	return nil
}
