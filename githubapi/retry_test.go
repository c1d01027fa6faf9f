package githubapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-github/v57/github"
	"github.com/rcrowley/go-metrics"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// retryEnv is the embedded GitHub with two installations, each with a
// go-github client over one shared retry transport, as the client creator
// builds them.
type retryEnv struct {
	gh       *fakegithub.GitHub
	repo     *fakegithub.Repo
	registry metrics.Registry
	a, b     *github.Client
	head     string
}

func newRetryEnv(t *testing.T, p githubapi.RetryPolicy) *retryEnv {
	t.Helper()
	gh := fakegithub.New(fakegithub.Options{AppID: 42, AppSlug: "flux-rollback"})
	srv := httptest.NewServer(gh)
	t.Cleanup(srv.Close)
	gh.SetBaseURL(srv.URL)
	gh.AddInstallation(101, "acme")
	gh.AddInstallation(202, "other")
	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{DefaultBranch: "main", Installation: 101})
	gh.AddRepo("other", "deploy", fakegithub.RepoOptions{DefaultBranch: "main", Installation: 202})
	head, err := repo.Commit("main", fakegithub.CommitSpec{Message: "init", Author: fakegithub.Person{Name: "a", Email: "a@example.com"},
		Files: map[string]*fakegithub.File{"app.yaml": {Content: "image: api:1\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	registry := metrics.NewRegistry()
	p.Registry = registry
	transport := githubapi.NewRetryTransport(srv.Client().Transport, p)
	base, _ := url.Parse(srv.URL + "/")
	client := func(inst int64) *github.Client {
		c := github.NewClient(&http.Client{Transport: transport}).WithAuthToken(gh.IssueToken(inst))
		c.BaseURL = base
		return c
	}
	return &retryEnv{gh: gh, repo: repo, registry: registry, a: client(101), b: client(202), head: head}
}

func (e *retryEnv) count(name string) int64 {
	if c, ok := e.registry.Get(name).(metrics.Counter); ok {
		return c.Count()
	}
	return 0
}

// sent counts the requests the fake received for route.
func (e *retryEnv) sent(route string) int {
	n := 0
	for _, r := range e.gh.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

func quick() githubapi.RetryPolicy {
	return githubapi.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, AttemptTimeout: 2 * time.Second}
}

func TestRetryReadsOnServerErrors(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.FailNext("GET", "/repos/{owner}/{repo}", http.StatusBadGateway, 2)
	if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
		t.Fatalf("get after two 502s: %v", err)
	}
	if got := e.sent("GET /repos/{owner}/{repo}"); got != 3 {
		t.Errorf("sent %d requests, want 3", got)
	}
	if got := e.count("github.retries[cause:server_error]"); got != 2 {
		t.Errorf("server_error retries = %d, want 2", got)
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.FailNext("GET", "/repos/{owner}/{repo}", http.StatusServiceUnavailable, 10)
	_, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy")
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("error = %v, want the last 503", err)
	}
	if got := e.sent("GET /repos/{owner}/{repo}"); got != githubapi.DefaultMaxAttempts {
		t.Errorf("sent %d requests, want %d", got, githubapi.DefaultMaxAttempts)
	}
	if got := e.count("github.retry.give_ups[cause:server_error]"); got != 1 {
		t.Errorf("give ups = %d, want 1", got)
	}
}

func TestRetryTimeouts(t *testing.T) {
	p := quick()
	p.AttemptTimeout = 200 * time.Millisecond
	e := newRetryEnv(t, p)
	e.gh.StallNext("GET", "/repos/{owner}/{repo}", 1, 10*time.Second)
	if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
		t.Fatalf("get after a stalled attempt: %v", err)
	}
	if got := e.count("github.retries[cause:timeout]"); got != 1 {
		t.Errorf("timeout retries = %d, want 1", got)
	}
}

// A check run whose creation gets no answer is not created again by the
// transport: GitHub may have made it.
func TestRetryDoesNotRepeatUncheckedCreations(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.LoseResponseNext("POST", "/repos/{owner}/{repo}/check-runs", 1)
	_, _, err := e.a.Checks.CreateCheckRun(context.Background(), "acme", "deploy", github.CreateCheckRunOptions{Name: "Rollback", HeadSHA: e.head})
	if !errors.Is(err, githubapi.ErrOutcomeUnknown) {
		t.Fatalf("error = %v, want ErrOutcomeUnknown", err)
	}
	if got := e.sent("POST /repos/{owner}/{repo}/check-runs"); got != 1 {
		t.Errorf("sent %d creations, want 1", got)
	}
	if got := len(e.repo.CheckRuns(e.head)); got != 1 {
		t.Errorf("%d check runs, want the 1 that landed", got)
	}
	if got := e.count(githubapi.MetricOutcomeUnknown); got != 1 {
		t.Errorf("outcome unknown = %d, want 1", got)
	}

	// A 502 is no better: GitHub may have done the work behind its proxy.
	e.gh.FailNext("POST", "/repos/{owner}/{repo}/check-runs", http.StatusBadGateway, 1)
	_, _, err = e.a.Checks.CreateCheckRun(context.Background(), "acme", "deploy", github.CreateCheckRunOptions{Name: "Rollback", HeadSHA: e.head})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("error = %v, want the 502", err)
	}
	if got := e.sent("POST /repos/{owner}/{repo}/check-runs"); got != 2 {
		t.Errorf("sent %d creations, want 2", got)
	}
}

// A branch creation whose answer was lost is repeated; GitHub then says the
// branch exists, which the adapter reports as rollback.ErrBranchExists, the
// case the rollback already treats as its own earlier attempt.
func TestRetryRepeatsBranchCreationIntoExists(t *testing.T) {
	e := newRetryEnv(t, quick())
	repo := githubapi.NewRepo(e.a, "acme", "deploy")
	e.gh.LoseResponseNext("POST", "/repos/{owner}/{repo}/git/refs", 1)
	err := repo.CreateBranch(context.Background(), "rollback-1234567", e.head)
	if !errors.Is(err, rollback.ErrBranchExists) {
		t.Fatalf("error = %v, want ErrBranchExists", err)
	}
	if sha, ok := e.repo.Ref("rollback-1234567"); !ok || sha != e.head {
		t.Errorf("branch = %s %v, want %s", sha, ok, e.head)
	}
	if got := e.count("github.retries[cause:connection]"); got != 1 {
		t.Errorf("connection retries = %d, want 1", got)
	}
}

func TestRetryWaitsOutSecondaryLimits(t *testing.T) {
	for name, status := range map[string]int{"429": http.StatusTooManyRequests, "403": http.StatusForbidden} {
		t.Run(name, func(t *testing.T) {
			e := newRetryEnv(t, quick())
			e.gh.SecondaryRateLimitNext(status, 1, time.Second)
			start := time.Now()
			if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
				t.Fatalf("get after a secondary limit: %v", err)
			}
			if waited := time.Since(start); waited < time.Second {
				t.Errorf("answered after %s, before Retry-After's second", waited)
			}
			if got := e.count("github.retries[cause:secondary_limit]"); got != 1 {
				t.Errorf("secondary retries = %d, want 1", got)
			}
			if tm, ok := e.registry.Get("github.rate_limit.waits[cause:secondary_limit]").(metrics.Timer); !ok || tm.Count() != 1 {
				t.Errorf("no wait recorded")
			}
		})
	}
}

// A primary limit is waited out until X-RateLimit-Reset, and go-github's own
// memory of it never refuses a call once GitHub answers again.
func TestRetryWaitsOutPrimaryLimitWithoutStickyRefusal(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.ExhaustRateLimitFor(1500 * time.Millisecond)
	if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
		t.Fatalf("get across a primary limit: %v", err)
	}
	if got := e.count("github.retries[cause:primary_limit]"); got != 1 {
		t.Errorf("primary retries = %d, want 1", got)
	}

	// A limit that outlasts the deadline is answered at once...
	e.gh.ExhaustRateLimit()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _, err := e.a.Repositories.Get(ctx, "acme", "deploy")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("error = %v, want a rate limit error", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the request waited for a reset past its deadline")
	}
	// ...and once GitHub answers again, the same client asks it.
	e.gh.RestoreRateLimit()
	if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
		t.Fatalf("the client still refuses after the limit ended: %v", err)
	}
}

// One installation's secondary limit holds back only its own requests.
func TestRetryLimitsArePerInstallation(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.SecondaryRateLimitNext(http.StatusTooManyRequests, 1, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, _, err := e.a.Repositories.Get(ctx, "acme", "deploy"); err == nil {
		t.Fatal("a limit of a minute was waited out within a deadline of 2s")
	}
	before := e.sent("GET /repos/{owner}/{repo}")
	// The other installation is not held back.
	if _, _, err := e.b.Repositories.Get(context.Background(), "other", "deploy"); err != nil {
		t.Fatalf("other installation: %v", err)
	}
	// The limited one is not sent while GitHub asked to wait.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	_, resp, err := e.a.Repositories.Get(ctx2, "acme", "deploy")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("limited installation: %v", err)
	}
	if got := e.sent("GET /repos/{owner}/{repo}") - before; got != 1 {
		t.Errorf("%d requests reached GitHub after the limit, want only the other installation's", got)
	}
}

// A check run or comment whose creation got no answer is looked for before
// it is made again: it ends up made exactly once, whether the lost attempt
// landed or not.
func TestCheckedCreationsEndUpMadeOnce(t *testing.T) {
	type fault func(e *retryEnv, method, route string)
	lost := func(e *retryEnv, method, route string) { e.gh.LoseResponseNext(method, route, 1) }
	failed := func(e *retryEnv, method, route string) { e.gh.FailNext(method, route, http.StatusBadGateway, 1) }
	stalled := func(e *retryEnv, method, route string) { e.gh.StallNext(method, route, 1, 10*time.Second) }
	faults := map[string]fault{"lost response": lost, "502 before landing": failed, "stalled": stalled}

	for name, inject := range faults {
		t.Run("check run/"+name, func(t *testing.T) {
			p := quick()
			p.AttemptTimeout = 300 * time.Millisecond
			e := newRetryEnv(t, p)
			repo := githubapi.NewRepo(e.a, "acme", "deploy")
			inject(e, "POST", "/repos/{owner}/{repo}/check-runs")
			id, err := repo.CreateCheckRun(context.Background(), e.head, report.CheckRun{Status: "completed", Conclusion: "neutral", Title: "t", Summary: "s"})
			if err != nil {
				t.Fatal(err)
			}
			runs := e.repo.CheckRuns(e.head)
			if len(runs) != 1 || runs[0].ID != id {
				t.Fatalf("check runs %+v, want exactly one with id %d", runs, id)
			}
		})
		t.Run("issue comment/"+name, func(t *testing.T) {
			p := quick()
			p.AttemptTimeout = 300 * time.Millisecond
			e := newRetryEnv(t, p)
			repo := githubapi.NewRepo(e.a, "acme", "deploy")
			number := e.repo.AddIssue("incident")
			inject(e, "POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
			if err := repo.ReplyToIssue(context.Background(), number, "Rolled back."); err != nil {
				t.Fatal(err)
			}
			if got := e.repo.IssueComments(number); len(got) != 1 {
				t.Fatalf("%d comments, want 1", len(got))
			}
		})
		t.Run("commit comment/"+name, func(t *testing.T) {
			p := quick()
			p.AttemptTimeout = 300 * time.Millisecond
			e := newRetryEnv(t, p)
			repo := githubapi.NewRepo(e.a, "acme", "deploy")
			inject(e, "POST", "/repos/{owner}/{repo}/commits/{commit_sha}/comments")
			if err := repo.ReplyToCommit(context.Background(), e.head, "Rolled back."); err != nil {
				t.Fatal(err)
			}
			if got := e.repo.CommitComments(); len(got) != 1 {
				t.Fatalf("%d comments, want 1", len(got))
			}
		})
	}
}

// A secondary limit that outlasts the deadline is answered at once, and
// go-github does not take it to last until the hourly window's reset: once
// GitHub answers again, so do the client's calls.
func TestRetrySecondaryLimitIsNotStickyInGoGitHub(t *testing.T) {
	e := newRetryEnv(t, quick())
	e.gh.SecondaryRateLimitNext(http.StatusForbidden, 1, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, _, err := e.a.Repositories.Get(ctx, "acme", "deploy"); err == nil {
		t.Fatal("a limit longer than the deadline was waited out")
	}
	time.Sleep(1100 * time.Millisecond)
	if _, _, err := e.a.Repositories.Get(context.Background(), "acme", "deploy"); err != nil {
		t.Fatalf("the client still refuses after the limit ended: %v", err)
	}
}
