package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// BenchmarkPushBurst drives the real server over loopback with b.N signed
// push deliveries, sent 32 at a time by the embedded GitHub, which adds
// 50 ms to every API call as the internet would. It reports deliveries
// acknowledged per second, the 50th and 99th percentile of the
// acknowledgement, the process's peak resident memory (server, embedded
// GitHub and load together), and how many releases did not end with exactly
// one check run once the queue drained and the sweeper brought back what was
// refused. Run it with a fixed count:
//
//	go test ./server -run '^$' -bench PushBurst -benchtime 2000x
func BenchmarkPushBurst(b *testing.B) {
	const (
		repos       = 50
		senders     = 32
		apiLatency  = 50 * time.Millisecond
		workers     = 32
		sweepPeriod = time.Second
	)
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Configure: func(c *server.Config) {
		c.Rollback.QueueSize = server.DefaultQueueSize
		c.Rollback.QueueWorkers = workers
		c.Redelivery.Interval = sweepPeriod
		c.Redelivery.MaxPerSweep = 1000
		c.Redelivery.MaxAttempts = 20
		c.Server.LogLevel = "warn"
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()

	// The releases are pushed while the App is unreachable (GitHub records
	// failed deliveries), and the burst redelivers them all at once.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()
	sb.GitHub.SetWebhook(down.URL, sb.WebhookSecret)
	type release struct {
		repo *fakegithub.Repo
		sha  string
	}
	var releases []release
	var gitops []*sandbox.GitOpsRepo
	for i := range repos {
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", fmt.Sprintf("deploy-%02d", i))
		if err != nil {
			b.Fatal(err)
		}
		gitops = append(gitops, r)
	}
	for i := range b.N {
		r := gitops[i%repos]
		sha, _ := r.ReleaseV2(context.Background(), fmt.Sprintf("2.%d.0", i))
		releases = append(releases, release{r.Repo, sha})
	}
	var ids []int64
	for _, d := range sb.GitHub.Deliveries() {
		if d.Event == "push" {
			ids = append(ids, d.ID)
		}
	}
	sb.GitHub.SetWebhook(sb.AppURL+server.WebhookRoute, sb.WebhookSecret)
	sb.GitHub.SetLatency(apiLatency)

	b.ResetTimer()
	start := time.Now()
	acks := make([]time.Duration, len(ids))
	codes := make([]int, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d, _ := sb.GitHub.Redeliver(context.Background(), ids[i])
				if d != nil {
					acks[i], codes[i] = d.Duration, d.StatusCode
				}
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	refused := 0
	for _, c := range codes {
		if c != http.StatusOK {
			refused++
		}
	}
	// Every release ends with exactly one check run: the queue drains and
	// the sweeper brings back the refused deliveries.
	lost := func() int {
		n := 0
		for _, rel := range releases {
			if rollbackRuns(rel.repo, rel.sha) != 1 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Minute)
	for lost() > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	drained := time.Since(start)

	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	pct := func(p float64) float64 { return float64(acks[int(p*float64(len(acks)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(ids))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50-ack-ms")
	b.ReportMetric(pct(0.99), "p99-ack-ms")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(lost()), "lost")
	b.ReportMetric(drained.Seconds(), "s-until-all-marked")
}

// peakRSS is the process's peak resident set size (VmHWM), 0 where /proc
// is not there.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
