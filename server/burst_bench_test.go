package server_test

import (
	"context"
	"fmt"
	"net/http"
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
// push deliveries, sent 32 at a time by the embedded GitHub (one stream of
// releases per repository), which adds
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
		repos       = 32 // pushes in flight at once, one stream per repository
		apiLatency  = 50 * time.Millisecond
		workers     = server.DefaultQueueWorkers
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

	// The release commits are made first; the burst pushes them, one push
	// per release, from as many repositories at once.
	type release struct {
		repo *fakegithub.Repo
		sha  string
	}
	streams := make([][]release, repos)
	for i := range repos {
		// One installation per repository: a burst of thousands of pushes on
		// one installation would spend GitHub's 5,000 requests an hour.
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID+int64(i), fmt.Sprintf("org%02d", i), "deploy")
		if err != nil {
			b.Fatal(err)
		}
		tag := "1.4.2"
		for j := i; j < b.N; j += repos {
			content, err := r.ReadFile("main", sandbox.DeploymentPath)
			if err != nil {
				b.Fatal(err)
			}
			next := fmt.Sprintf("2.%d.0", j)
			sha, err := r.Commit("main", fakegithub.CommitSpec{
				Message: "Update from image update automation\n\nAutomation name: flux-system/web\n\nFiles:\n- " + sandbox.DeploymentPath + "\n",
				Author:  sandbox.FluxV2,
				Files:   map[string]*fakegithub.File{sandbox.DeploymentPath: {Content: strings.Replace(content, "ghcr.io/acme/web:"+tag, "ghcr.io/acme/web:"+next, 1)}},
			})
			if err != nil {
				b.Fatal(err)
			}
			tag = next
			streams[i] = append(streams[i], release{r.Repo, sha})
		}
		if len(streams[i]) > 0 {
			// Pushes report what moved since the last push: start before
			// the first release.
			first, _ := r.CommitInfo(streams[i][0].sha)
			if err := r.SetRef("main", first.Parents[0]); err != nil {
				b.Fatal(err)
			}
		}
	}
	sb.GitHub.SetLatency(apiLatency)

	b.ResetTimer()
	start := time.Now()
	var mu sync.Mutex
	var acks []time.Duration
	var codes []int
	var releases []release
	var wg sync.WaitGroup
	for _, stream := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, rel := range stream {
				d, _ := rel.repo.PushTo(context.Background(), "main", rel.sha)
				mu.Lock()
				releases = append(releases, rel)
				if d != nil {
					acks = append(acks, d.Duration)
					codes = append(codes, d.StatusCode)
				}
				mu.Unlock()
			}
		}()
	}
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
	pending := releases
	lost := func() int {
		var still []release
		for _, rel := range pending {
			if rollbackRuns(rel.repo, rel.sha) != 1 {
				still = append(still, rel)
			}
		}
		pending = still
		return len(still)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for lost() > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	drained := time.Since(start)

	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	pct := func(p float64) float64 { return float64(acks[int(p*float64(len(acks)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(acks))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50-ack-ms")
	b.ReportMetric(pct(0.99), "p99-ack-ms")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(len(pending)), "lost")
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
