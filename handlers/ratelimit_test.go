package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcrowley/go-metrics"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// limitAfter is how many of a rollback's requests served before the
// installation's primary rate limit is spent: the limit falls in the middle
// of the rollback, after its reads and among its writes.
func limitAfter(requests int) int { return requests * 2 / 3 }

// clickRequests counts the requests a click on the api-js release makes in
// a fresh sandbox, so that a limit can be placed in its middle.
func clickRequests(t *testing.T, configure ...func(*server.Config)) int {
	t.Helper()
	e := start(t, configure...)
	_, run := releasedAPIJS(t, e)
	e.GitHub.ResetRequests()
	if d := click(t, e, run, report.ActionRollback, sandbox.Human.Login); d.StatusCode != http.StatusOK {
		t.Fatalf("the click without a limit answered %d", d.StatusCode)
	}
	return len(e.GitHub.Requests())
}

// commandRequests counts the requests of a /rollback command on the api-js
// release in a fresh sandbox.
func commandRequests(t *testing.T) int {
	t.Helper()
	e := start(t)
	release, err := e.repo.ReleaseV1(e.ctx, apiJS, "master-26a4b87")
	if err != nil {
		t.Fatal(err)
	}
	number := e.repo.AddIssue("api-js is broken")
	return len(commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, "/rollback "+release).calls)
}

// rateLimited returns the requests GitHub refused for the primary rate
// limit, and the requests answered after the first of them.
func rateLimited(reqs []fakegithub.Request) (refused, after []fakegithub.Request) {
	for i, r := range reqs {
		if r.Status == http.StatusForbidden && strings.Contains(string(r.ResponseBody), "API rate limit exceeded") {
			if len(refused) == 0 {
				after = reqs[i+1:]
			}
			refused = append(refused, r)
		}
	}
	return refused, after
}

// requireWaitedOut checks that the limit met the rollback once and that
// nothing was sent to GitHub until its reset: GitHub refuses every request
// while the limit lasts, so one refusal means the App learnt of it and then
// waited.
func requireWaitedOut(t *testing.T, e *env, reset time.Duration) {
	t.Helper()
	refused, after := rateLimited(e.GitHub.Requests())
	if len(refused) != 1 {
		t.Fatalf("%d requests refused for the rate limit, want the one that met it:\n%s", len(refused), routes(refused))
	}
	if len(after) == 0 {
		t.Fatal("nothing was sent after the limit")
	}
	// The fake's clock is in whole seconds, as X-RateLimit-Reset is.
	for _, r := range after {
		if r.Time.Before(refused[0].Time.Add(reset)) {
			t.Errorf("%s %s sent at %s, before the limit met at %s ended", r.Method, r.Path, r.Time.Format(time.TimeOnly), refused[0].Time.Format(time.TimeOnly))
		}
	}
	if n := metrics.GetOrRegisterCounter("github.retries[cause:primary_limit]", e.Registry).Count(); n != 1 {
		t.Errorf("%d retries after a primary limit, want 1", n)
	}
}

// requireOneRevert checks that exactly one rollback branch and pull request
// exist and that the branch holds git's revert of release, the tip of main
// whose parent was parent: the parent's tree on top of the release.
func requireOneRevert(t *testing.T, e *env, release, parent string) fakegithub.PullRequest {
	t.Helper()
	if b := rollbackBranches(e.repo.Repo); len(b) != 1 {
		t.Fatalf("rollback branches %v, want one", b)
	}
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want 1: %+v", len(prs), prs)
	}
	branch := "rollback-" + release[:7]
	if prs[0].Head != branch || prs[0].Base != "main" {
		t.Errorf("pull request %s -> %s, want %s -> main", prs[0].Head, prs[0].Base, branch)
	}
	head, ok := e.repo.Ref("heads/" + branch)
	if !ok {
		t.Fatalf("no branch %s", branch)
	}
	commit, err := e.repo.CommitInfo(head)
	if err != nil {
		t.Fatal(err)
	}
	if len(commit.Parents) != 1 || commit.Parents[0] != release {
		t.Errorf("rollback commit parents = %v, want [%s]", commit.Parents, release)
	}
	if got, want := treeOf(t, e.repo.Repo, head), treeOf(t, e.repo.Repo, parent); got != want {
		t.Errorf("rollback tree %s, want the release's parent tree %s", got, want)
	}
	return prs[0]
}

// A primary rate limit met in the middle of a click, ending within the
// event's deadline, is waited out: the click opens its one pull request and
// the check run names it.
func TestClickWaitsOutAPrimaryRateLimit(t *testing.T) {
	const reset = 2 * time.Second
	requests := clickRequests(t)
	e := start(t)
	parent, _ := e.repo.Ref("heads/main")
	release, run := releasedAPIJS(t, e)
	e.GitHub.ResetRequests()
	e.GitHub.ExhaustRateLimitAfter(limitAfter(requests), reset)
	d := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if d.StatusCode != http.StatusOK {
		t.Fatalf("the click answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	requireWaitedOut(t, e, reset)
	pr := requireOneRevert(t, e, release, parent)
	final, _ := e.repo.CheckRun(run.ID)
	if final.Status != "completed" {
		t.Errorf("check run %s, want completed", final.Status)
	}
	requireMentions(t, "the check run", final.Output.Title+final.Output.Summary, "#"+strconv.Itoa(pr.Number))
}

// A primary rate limit that outlasts the event's deadline fails the delivery
// at once, visibly to GitHub's delivery log; the check run cannot be written
// while the limit lasts and claims nothing. A redelivery after the reset
// opens the one pull request.
func TestClickBeyondAPrimaryRateLimitFailsAndARedeliveryAfterTheResetFinishes(t *testing.T) {
	const (
		deadline = 4 * time.Second
		reset    = 6 * time.Second
	)
	short := func(c *server.Config) { c.Rollback.EventTimeout = deadline }
	requests := clickRequests(t, short)
	e := start(t, short)
	parent, _ := e.repo.Ref("heads/main")
	release, run := releasedAPIJS(t, e)
	e.GitHub.ResetRequests()
	e.GitHub.ExhaustRateLimitAfter(limitAfter(requests), reset)
	started := time.Now()
	d := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if d.StatusCode != http.StatusInternalServerError {
		t.Fatalf("the click under the limit answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	if took := time.Since(started); took >= deadline {
		t.Errorf("the click took %s: it waited for a limit it could not outlast", took)
	}
	if !strings.Contains(e.logs.String(), "API rate limit exceeded") {
		t.Error("the server's logs do not tell the rate limit")
	}
	refused, _ := rateLimited(e.GitHub.Requests())
	if len(refused) == 0 {
		t.Fatal("the limit did not meet the click")
	}
	if prs := e.repo.PullRequests(); len(prs) != 0 {
		t.Fatalf("pull requests opened under the limit: %+v", prs)
	}
	under, _ := e.repo.CheckRun(run.ID)
	if under.Status == "completed" && under.Conclusion != run.Conclusion || strings.Contains(under.Output.Title, "#") {
		t.Errorf("the check run claims an outcome though nothing could be written: %+v", under.Output)
	}

	// GitHub's reset, and the transport's second past it.
	time.Sleep(time.Until(refused[0].Time.Add(reset + 2*time.Second)))
	again, err := e.GitHub.Redeliver(e.ctx, d.ID)
	if err != nil || again.StatusCode != http.StatusOK {
		t.Fatalf("the redelivery after the reset: %+v, %v", again, err)
	}
	pr := requireOneRevert(t, e, release, parent)
	final, _ := e.repo.CheckRun(run.ID)
	if final.Status != "completed" {
		t.Errorf("check run %s, want completed", final.Status)
	}
	requireMentions(t, "the check run", final.Output.Title+final.Output.Summary, "#"+strconv.Itoa(pr.Number))
}

// A /rollback command whose rollback meets a primary rate limit within the
// event's deadline waits it out and replies with its one pull request.
func TestCommandWaitsOutAPrimaryRateLimit(t *testing.T) {
	const reset = 2 * time.Second
	requests := commandRequests(t)
	e := start(t)
	parent, _ := e.repo.Ref("heads/main")
	release, err := e.repo.ReleaseV1(e.ctx, apiJS, "master-26a4b87")
	if err != nil {
		t.Fatal(err)
	}
	number := e.repo.AddIssue("api-js is broken")
	e.GitHub.ResetRequests()
	e.GitHub.ExhaustRateLimitAfter(limitAfter(requests), reset)
	res := commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, "/rollback "+release)
	requireWaitedOut(t, e, reset)
	pr := requireOneRevert(t, e, release, parent)
	requireMentions(t, "the reply", res.onlyReply(t), "Opened "+pullLink(e.repo.Repo, pr.Number))
}
