package handlers_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// An attempt that opened the pull request and stopped before labelling it
// leaves the labels and review requests to the next attempt.
func TestRedeliveryDecoratesThePullRequestAnInterruptedAttemptOpened(t *testing.T) {
	e := start(t, func(c *server.Config) {
		c.Rollback.Defaults.PullRequest.Labels = []string{"rollback", "incident"}
		c.Rollback.Defaults.PullRequest.Reviewers = []string{"bob"}
	})
	e.repo.SetPermission("bob", "write")
	_, run := releasedAPIJS(t, e)
	// Labels fail on every attempt the retry policy makes.
	e.GitHub.FailNext(http.MethodPost, "/repos/{owner}/{repo}/issues/{issue_number}/labels", http.StatusBadGateway, githubapi.DefaultMaxAttempts)
	d := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if d.StatusCode < 500 {
		t.Fatalf("the interrupted attempt answered %d", d.StatusCode)
	}
	prs := e.repo.PullRequests()
	if len(prs) != 1 || len(prs[0].Labels) != 0 {
		t.Fatalf("after the interrupted attempt: %+v", prs)
	}

	if _, err := e.GitHub.Redeliver(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	prs = e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want 1", len(prs))
	}
	if got := prs[0].Labels; !slices.Contains(got, "rollback") || !slices.Contains(got, "incident") {
		t.Errorf("labels %v, want rollback and incident", got)
	}
	if got := prs[0].RequestedReviewers; !slices.Equal(got, []string{"bob"}) {
		t.Errorf("review requested from %v, want bob once", got)
	}

	// A later click finds it complete and writes nothing more to it.
	e.GitHub.ResetRequests()
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	for _, r := range e.GitHub.Requests() {
		if r.Route == "POST /repos/{owner}/{repo}/issues/{issue_number}/labels" || r.Route == "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers" {
			t.Errorf("a click on a complete pull request made %s", r.Route)
		}
	}
}

// Two replicas handle one click: the second's pull request is refused with
// 422 by GitHub and the list does not show the first's yet. It looks again
// instead of failing.
func TestRacingClickLooksAgainForThePullRequest(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	if d := click(t, e, run, report.ActionRollback, sandbox.Human.Login); d.StatusCode != http.StatusOK {
		t.Fatalf("first click answered %d", d.StatusCode)
	}
	e.GitHub.StaleListNext("/repos/{owner}/{repo}/pulls", 1)
	d := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if d.StatusCode != http.StatusOK {
		t.Fatalf("racing click answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	if prs := e.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("%d pull requests, want 1", len(prs))
	}
	final, _ := e.repo.CheckRun(run.ID)
	requireMentions(t, "the check run", final.Output.Title, "#1")
}

// A click refused because the configuration is broken removes the Roll back
// button: the empty list of actions reaches GitHub.
func TestRefusalForABrokenConfigurationRemovesTheButton(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	if len(run.Actions) == 0 {
		t.Fatal("the release's check run has no button to remove")
	}
	if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "Configure", Author: sandbox.Human,
		Files: map[string]*fakegithub.File{".github/flux-rollback.yml": {Content: "version: 1\nbranches: staging\n"}}}); err != nil {
		t.Fatal(err)
	}
	if d := click(t, e, run, report.ActionRollback, sandbox.Human.Login); d.StatusCode != http.StatusOK {
		t.Fatalf("click answered %d", d.StatusCode)
	}
	final, _ := e.repo.CheckRun(run.ID)
	requireMentions(t, "the refusal", final.Output.Title+final.Output.Summary, "configuration")
	if len(final.Actions) != 0 {
		t.Errorf("the refusal still shows %+v", final.Actions)
	}
}

// An outsider's commands on a public repository, help included, cost one
// read each and write nothing; a member below write gets one reply per
// comment and no reaction.
func TestOutsidersCommandsWriteNothing(t *testing.T) {
	e := start(t)
	number := e.repo.AddIssue("Roll back")
	e.GitHub.ResetRequests()
	for _, body := range []string{"/rollback help", "/rollback", "/rollback api-js", "/rollback frobnicate"} {
		res := commandIssueComment(t, e, e.repo.Repo, number, "mallory", body)
		if len(res.calls) != 1 || res.calls[0].Route != roleRoute {
			t.Errorf("%q by an outsider made these requests, want only the role read:\n%s", body, routes(res.calls))
		}
	}
	for _, r := range e.GitHub.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("an outsider's command made %s %s", r.Method, r.Path)
		}
	}

	e.repo.SetPermission("bob", "triage")
	res := commandIssueComment(t, e, e.repo.Repo, number, "bob", "/rollback help")
	if got := e.repo.Reactions(res.id); len(got) != 0 {
		t.Errorf("reactions %+v, want none", got)
	}
	requireMentions(t, "the refusal", res.onlyReply(t), `"triage" role`, `"write" or higher`)
}
