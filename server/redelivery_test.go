package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// startSandbox runs the real server against the embedded GitHub with
// configure applied.
func startSandbox(t *testing.T, configure func(*server.Config)) *sandbox.Sandbox {
	t.Helper()
	logs := &sandbox.LogBuffer{}
	logger := zerolog.New(logs).Level(zerolog.WarnLevel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server warnings and errors:\n%s", logs.String())
		}
	})
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Configure: configure, Logger: &logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return sb
}

// rollbackRuns counts the Rollback check runs on sha.
func rollbackRuns(repo *fakegithub.Repo, sha string) int {
	n := 0
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == report.CheckRunName {
			n++
		}
	}
	return n
}

// eventually waits for cond, failing the test after limit. It waits for an
// outcome, it does not time one.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failedDelivery reports whether err is GitHub's record of a delivery the
// app did not accept, and its status code.
func failedDelivery(err error) (int, bool) {
	var de *fakegithub.DeliveryError
	if errors.As(err, &de) {
		return de.Delivery.StatusCode, true
	}
	return 0, false
}

func TestSweeperRedeliversWhatWasSentWhileTheServerWasDown(t *testing.T) {
	sb := startSandbox(t, func(c *server.Config) { c.Redelivery.Interval = 200 * time.Millisecond })
	repo, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	// The App is unreachable: GitHub records the delivery as failed.
	sb.GitHub.SetWebhook("http://127.0.0.1:1"+server.WebhookRoute, sb.WebhookSecret)
	sha, err := repo.ReleaseV2(context.Background(), "1.5.0")
	if code, ok := failedDelivery(err); !ok || code != 0 {
		t.Fatalf("delivery while down: %v", err)
	}
	sb.GitHub.SetWebhook(sb.AppURL+server.WebhookRoute, sb.WebhookSecret)

	eventually(t, 30*time.Second, "the release's check run", func() bool { return rollbackRuns(repo.Repo, sha) == 1 })
	// Once it succeeded it is not redelivered again.
	time.Sleep(600 * time.Millisecond)
	var attempts, redelivered int
	for _, d := range sb.GitHub.Deliveries() {
		if d.Event == "push" {
			attempts++
			if d.Redelivery {
				redelivered++
				if d.StatusCode != http.StatusOK {
					t.Errorf("redelivery answered %d", d.StatusCode)
				}
			}
		}
	}
	if attempts != 2 || redelivered != 1 {
		t.Errorf("%d push attempts with %d redeliveries, want the failed one and one redelivery", attempts, redelivered)
	}
	if n := rollbackRuns(repo.Repo, sha); n != 1 {
		t.Errorf("%d check runs, want 1", n)
	}
	resp, err := http.Get(sb.AppURL + server.MetricsRoute)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"flux_rollback_redelivery_requested_total 1", "flux_rollback_redelivery_sweeps_total", "flux_rollback_panics_recovered"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics does not show %q", want)
		}
	}
}

func TestSweeperRedeliversDeliveriesRefusedWith503(t *testing.T) {
	sb := startSandbox(t, func(c *server.Config) {
		c.Redelivery.Interval = 200 * time.Millisecond
		c.Redelivery.MaxAttempts = 20
		c.Rollback.MaxConcurrentEvents = 1
	})
	sb.GitHub.SetLatency(30 * time.Millisecond)
	const repos = 6
	var mu sync.Mutex
	releases := map[*fakegithub.Repo]string{}
	refused := 0
	var wg sync.WaitGroup
	var gitops []*sandbox.GitOpsRepo
	for i := range repos {
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", fmt.Sprintf("deploy-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		gitops = append(gitops, r)
	}
	for _, r := range gitops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sha, err := r.ReleaseV2(context.Background(), "2.0.0")
			mu.Lock()
			defer mu.Unlock()
			releases[r.Repo] = sha
			if code, ok := failedDelivery(err); ok && code == http.StatusServiceUnavailable {
				refused++
			} else if err != nil {
				t.Errorf("delivery: %v", err)
			}
		}()
	}
	wg.Wait()
	if refused == 0 {
		t.Fatal("no delivery was refused; the test shows nothing")
	}
	for repo, sha := range releases {
		eventually(t, 60*time.Second, "a check run on every release", func() bool { return rollbackRuns(repo, sha) >= 1 })
	}
	time.Sleep(500 * time.Millisecond)
	for repo, sha := range releases {
		if n := rollbackRuns(repo, sha); n != 1 {
			t.Errorf("%s: %d check runs, want exactly 1", repo.FullName(), n)
		}
	}
}

// SIGTERM in the middle of a burst of pushes: readiness turns 503 at once,
// every delivery sent during the shutdown delay is still accepted, and every
// accepted push is handled before the process ends.
func TestShutdownDuringABurstRefusesNothing(t *testing.T) {
	const delay = 1500 * time.Millisecond
	sb := startSandbox(t, func(c *server.Config) {
		c.Rollback.QueueSize = 1000
		c.Rollback.QueueWorkers = 2
		c.Server.ShutdownDelay = delay
		// Long enough for a loaded machine to drain the whole queue: what
		// is proven is that nothing is refused and every queued push is
		// handled, not how fast.
		c.Server.ShutdownTimeout = 3 * time.Minute
	})
	sb.GitHub.SetLatency(5 * time.Millisecond)
	var gitops []*sandbox.GitOpsRepo
	for i := range 4 {
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", fmt.Sprintf("deploy-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		gitops = append(gitops, r)
	}

	stopSending := make(chan struct{})
	var mu sync.Mutex
	type release struct {
		repo *fakegithub.Repo
		sha  string
	}
	var sent []release
	var wg sync.WaitGroup
	for _, r := range gitops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopSending:
					return
				default:
				}
				sha, err := r.ReleaseV2(context.Background(), fmt.Sprintf("3.0.%d", i))
				if err != nil {
					t.Errorf("delivery refused during the burst: %v", err)
					return
				}
				mu.Lock()
				sent = append(sent, release{r.Repo, sha})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	closed := make(chan error, 1)
	closing := time.Now()
	go func() { closed <- sb.Close() }() // what SIGTERM does
	eventually(t, 5*time.Second, "readiness to turn 503", func() bool {
		resp, err := http.Get(sb.AppURL + server.HealthRoute)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	// Keep sending well within the delay, as a load balancer would until
	// it sees the readiness; counted from the shutdown's start, so that a
	// slow look at the readiness leaves the pushes in flight their time.
	time.Sleep(time.Until(closing.Add(delay / 2)))
	close(stopSending)
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	if len(sent) < 8 {
		t.Fatalf("only %d pushes sent; the burst shows nothing", len(sent))
	}
	for _, rel := range sent {
		if n := rollbackRuns(rel.repo, rel.sha); n != 1 {
			t.Errorf("%s@%s: %d check runs, want 1", rel.repo.FullName(), rel.sha[:7], n)
		}
	}
	for _, d := range sb.GitHub.Deliveries() {
		if d.StatusCode != http.StatusOK {
			t.Errorf("delivery %s answered %d %s", d.GUID, d.StatusCode, d.Err)
		}
	}
}

// GitHub on a bad day: a share of every kind of failure on every call the
// App makes (502s, stalls past the attempt timeout, writes that land but
// whose answer is lost, secondary rate limits). Every rollback still ends
// with exactly one pull request holding the exact revert, and a check run
// that names it; what failed outright came back through the sweeper.
func TestRollbacksUnderFaultsEndWithOnePullRequestEach(t *testing.T) {
	// The attempt timeout is well above what a call takes on a loaded
	// machine and well below the injected stall, so that a stall is a
	// timeout and a slow answer is not; the sweeper redelivers often
	// enough that a run of failures never exhausts it.
	sb := startSandbox(t, func(c *server.Config) {
		c.Redelivery.Interval = 300 * time.Millisecond
		c.Redelivery.MaxAttempts = 50
		c.Rollback.ClientTimeout = time.Second
	})
	const repos = 4
	type target struct {
		repo    *sandbox.GitOpsRepo
		release string
		before  string // the Deployment before the release
		run     int64
	}
	var targets []*target
	for i := range repos {
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", fmt.Sprintf("deploy-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		before, err := r.ReadFile("main", sandbox.DeploymentPath)
		if err != nil {
			t.Fatal(err)
		}
		sha, err := r.ReleaseV2(context.Background(), "9.9.9")
		if err != nil {
			t.Fatal(err)
		}
		var run int64
		for _, cr := range r.CheckRuns(sha) {
			if cr.Name == report.CheckRunName {
				run = cr.ID
			}
		}
		if run == 0 {
			t.Fatalf("no check run on the release of %s", r.FullName())
		}
		targets = append(targets, &target{repo: r, release: sha, before: before, run: run})
	}

	sb.GitHub.SetFaults(fakegithub.Faults{Seed: 7, ServerError: 0.3, Timeout: 0.05, Stall: 4 * time.Second,
		LostResponse: 0.1, SecondaryLimit: 0.03, RetryAfter: time.Second})
	var wg sync.WaitGroup
	for _, tg := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A failed delivery is the sweeper's to bring back.
			_, _ = tg.repo.ClickCheckRunAction(context.Background(), tg.run, report.ActionRollback, sandbox.Human.Login)
		}()
	}
	wg.Wait()

	// One bound for all the rollbacks, generous for a loaded machine.
	deadline := time.Now().Add(4 * time.Minute)
	for _, tg := range targets {
		done := func() bool {
			prs := tg.repo.PullRequests()
			run, _ := tg.repo.CheckRun(tg.run)
			return len(prs) >= 1 && run.Status == "completed" && strings.Contains(run.Output.Title, fmt.Sprintf("#%d", prs[0].Number))
		}
		for !done() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !done() {
			run, _ := tg.repo.CheckRun(tg.run)
			var log []string
			for _, d := range sb.GitHub.Deliveries() {
				if d.Event == "check_run" && d.RepositoryID == tg.repo.ID() {
					log = append(log, fmt.Sprintf("%s redelivery=%v %d %s %.200s", d.GUID[:8], d.Redelivery, d.StatusCode, d.Err, d.ResponseBody))
				}
			}
			t.Fatalf("%s: %d pull requests, check run %s %q; deliveries:\n%s", tg.repo.FullName(), len(tg.repo.PullRequests()), run.Status, run.Output.Title, strings.Join(log, "\n"))
		}
	}
	sb.GitHub.SetFaults(fakegithub.Faults{})
	var failedDeliveries int
	for _, d := range sb.GitHub.Deliveries() {
		if d.StatusCode != http.StatusOK {
			failedDeliveries++
		}
	}
	t.Logf("%d deliveries failed and were redelivered", failedDeliveries)
	for _, tg := range targets {
		prs := tg.repo.PullRequests()
		if len(prs) != 1 {
			t.Errorf("%s: %d pull requests, want 1", tg.repo.FullName(), len(prs))
			continue
		}
		// The revert commit; the hold of Flux's automation follows it.
		revertSHA := prs[0].HeadSHA
		for range 2 {
			if c, err := tg.repo.CommitInfo(revertSHA); err == nil && len(c.Parents) == 1 && c.Parents[0] != tg.release {
				revertSHA = c.Parents[0]
			}
		}
		got, err := tg.repo.ReadFile(revertSHA, sandbox.DeploymentPath)
		if err != nil || got != tg.before {
			t.Errorf("%s: the revert's Deployment is not the one before the release (%v):\n%s", tg.repo.FullName(), err, got)
		}
		if b := branches(tg.repo.Repo); len(b) != 1 {
			t.Errorf("%s: rollback branches %v, want 1", tg.repo.FullName(), b)
		}
	}
}

// branches lists the rollback branches of repo.
func branches(repo *fakegithub.Repo) []string {
	var out []string
	for ref := range repo.Refs() {
		if strings.HasPrefix(ref, "refs/heads/rollback-") {
			out = append(out, ref)
		}
	}
	return out
}
