package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// BenchmarkPushBurst measures the App alone under a burst of b.N signed
// push deliveries, one per release commit. The App runs as its own
// process (`flux-rollback serve`, built into a temporary directory and
// configured by the environment) against the embedded GitHub, which adds
// 50 ms to every API call as the internet would. The release commits and
// their signed push payloads are made before the clock starts; the burst
// then sends them from several senders at once over loopback (20, as
// GitHub's deliveries of a busy organisation overlap, and 32), records each
// acknowledgement's latency, and writes each delivery into GitHub's
// delivery log, from which the App's sweeper asks for the refused ones
// again. It reports deliveries acknowledged per second, the 50th and 99th
// percentile of the acknowledgement, the App process's peak resident
// memory (VmHWM), the deliveries refused, and how many releases did not end
// with exactly one check run once the queue drained and the sweeper brought
// back what was refused. Run it with a fixed count:
//
//	go test ./server -run '^$' -bench PushBurst -benchtime 2000x
func BenchmarkPushBurst(b *testing.B) {
	for _, senders := range []int{20, 32} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchmarkPushBurst(b, senders) })
	}
}

// benchmarkPushBurst is BenchmarkPushBurst with senders deliveries in
// flight at once.
func benchmarkPushBurst(b *testing.B, senders int) {
	const (
		repos       = 32 // one stream of releases per repository
		apiLatency  = 50 * time.Millisecond
		sweepPeriod = time.Second
	)
	sb, err := sandbox.Start(context.Background(), sandbox.Options{WithoutApp: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	app := startAppProcess(b, sb, map[string]string{
		server.EnvQueueSize:          strconv.Itoa(server.DefaultQueueSize),
		server.EnvQueueWorkers:       strconv.Itoa(server.DefaultQueueWorkers),
		server.EnvRedeliveryInterval: sweepPeriod.String(),
		server.EnvRedeliveryPerSweep: "1000",
		server.EnvRedeliveryAttempts: "20",
		server.EnvLogLevel:           "warn",
		server.EnvShutdownDelay:      "0s",
	})

	// The release commits, and the push announcing each, are made first:
	// within a repository each push reports the one release since the
	// previous push, as Flux's pushes do.
	type release struct {
		repo     *fakegithub.Repo
		sha      string
		delivery *fakegithub.Delivery
	}
	// Ordered by release number, so that consecutive deliveries are for
	// different repositories, as in a burst across an organisation.
	releases := make([]release, b.N)
	for i := range repos {
		// One installation per repository: a burst of thousands of pushes on
		// one installation would spend GitHub's 5,000 requests an hour.
		r, err := sb.AddGitOpsRepo(sandbox.InstallationID+int64(i), fmt.Sprintf("org%02d", i), "deploy")
		if err != nil {
			b.Fatal(err)
		}
		// The initial commit counts as pushed before the burst.
		head, _ := r.Ref("main")
		if _, err := r.PreparePush("main", head); err != nil {
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
			d, err := r.PreparePush("main", sha)
			if err != nil {
				b.Fatal(err)
			}
			tag = next
			releases[j] = release{r.Repo, sha, d}
		}
	}
	sb.GitHub.SetLatency(apiLatency)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	acks := make([]time.Duration, len(releases))
	codes := make([]int, len(releases))
	work := make(chan int)
	var wg sync.WaitGroup

	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				acks[i], codes[i] = sendDelivery(client, app.webhookURL, sb.GitHub, releases[i].delivery)
			}
		}()
	}
	for i := range releases {
		work <- i
	}
	close(work)
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
	peak := app.stop(b)

	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	pct := func(p float64) float64 { return float64(acks[int(p*float64(len(acks)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(acks))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50-ack-ms")
	b.ReportMetric(pct(0.99), "p99-ack-ms")
	b.ReportMetric(float64(peak)/(1<<20), "app-peak-RSS-MB")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(len(pending)), "lost")
	b.ReportMetric(drained.Seconds(), "s-until-all-marked")
}

// sendDelivery posts a prepared delivery as GitHub would, records it in
// GitHub's delivery log, and returns how long the App took to answer and
// its status (0 when it could not be reached).
func sendDelivery(client *http.Client, url string, gh *fakegithub.GitHub, d *fakegithub.Delivery) (time.Duration, int) {
	sent := *d
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		panic(err)
	}
	req.Header = d.RequestHeader.Clone()
	start := time.Now()
	resp, err := client.Do(req)
	sent.Duration = time.Since(start)
	if err != nil {
		sent.Err = err.Error()
	} else {
		sent.StatusCode = resp.StatusCode
		sent.ResponseHeader = resp.Header.Clone()
		sent.ResponseBody, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	gh.RecordDelivery(sent)
	return sent.Duration, sent.StatusCode
}

// appProcess is flux-rollback serve running as a child process.
type appProcess struct {
	cmd        *exec.Cmd
	webhookURL string
	stderr     *bytes.Buffer
}

// startAppProcess builds flux-rollback, runs `flux-rollback serve`
// configured by the environment against the sandbox's embedded GitHub, and
// points GitHub's webhook at it.
func startAppProcess(b *testing.B, sb *sandbox.Sandbox, env map[string]string) *appProcess {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "flux-rollback")
	build := exec.Command("go", "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build flux-rollback: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cfg := sb.AppConfig
	vars := map[string]string{
		"GITHUB_WEB_URL":            cfg.GitHub.WebURL,
		"GITHUB_V3_API_URL":         cfg.GitHub.V3APIURL,
		"GITHUB_V4_API_URL":         cfg.GitHub.V4APIURL,
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(cfg.GitHub.App.IntegrationID, 10),
		"GITHUB_APP_WEBHOOK_SECRET": cfg.GitHub.App.WebhookSecret,
		"GITHUB_APP_PRIVATE_KEY":    cfg.GitHub.App.PrivateKey,
		server.EnvAddress:           "127.0.0.1",
		server.EnvPort:              strconv.Itoa(port),
	}
	for k, v := range env {
		vars[k] = v
	}
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "FLUXROLLBACK_") && !strings.HasPrefix(k, "GITHUB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	app := &appProcess{cmd: cmd, stderr: &bytes.Buffer{}}
	// The server logs at warn: a few lines, kept to show if it fails.
	cmd.Stderr = app.stderr
	cmd.Stdout = app.stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + server.HealthRoute)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("flux-rollback did not become healthy: %v\n%s", err, app.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	app.webhookURL = base + server.WebhookRoute
	sb.GitHub.SetWebhook(app.webhookURL, cfg.GitHub.App.WebhookSecret)
	return app
}

// stop reads the App's peak resident memory, then stops it as Kubernetes
// would (SIGTERM) and waits for it.
func (a *appProcess) stop(b *testing.B) int64 {
	b.Helper()
	peak := peakRSS(a.cmd.Process.Pid)
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Errorf("flux-rollback exited: %v\n%s", err, a.stderr)
		}
	case <-time.After(30 * time.Second):
		a.cmd.Process.Kill()
		<-done
		b.Errorf("flux-rollback did not stop within 30s of SIGTERM")
	}
	return peak
}

// peakRSS is the process's peak resident set size (VmHWM), 0 where /proc
// is not there.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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
