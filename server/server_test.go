package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fluxrollback/flux-rollback/handlers"
)

// funcHandler is a handler for one event made of a function, with a call
// counter.
type funcHandler struct {
	event string
	calls atomic.Int32
	fn    func(ctx context.Context, payload []byte) error
}

func (h *funcHandler) Handles() []string { return []string{h.event} }

func (h *funcHandler) Handle(ctx context.Context, _, _ string, payload []byte) error {
	h.calls.Add(1)
	if h.fn == nil {
		return nil
	}
	return h.fn(ctx, payload)
}

// withHandler adds h to the real handlers; it is consulted first.
func withHandler(h githubapp.EventHandler) Option {
	return WithHandlers(func(b *handlers.Base) []githubapp.EventHandler {
		return append([]githubapp.EventHandler{h}, handlers.All(b)...)
	})
}

func TestInstallationWebhookIsHandled(t *testing.T) {
	gh := newFakeGitHub(t)
	srv := startServer(t, testConfig(t, gh.URL))

	code, body := do(t, webhookRequest(t, srv.URL, "installation", "delivery-1", fixture(t, "installation.created.json")))
	if code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", code, body)
	}
	lines := srv.logs.lines(`"message":"installation changed"`)
	if len(lines) != 1 {
		t.Fatalf("want one installation log line, got %d:\n%s", len(lines), srv.logs)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"action":                        "created",
		"account":                       "Codertocat",
		githubapp.LogKeyDeliveryID:      "delivery-1",
		githubapp.LogKeyEventType:       "installation",
		githubapp.LogKeyInstallationID:  float64(957387),
		"installation_id":               float64(957387),
		"repositories":                  []any{"Codertocat/Hello-World"},
		githubapp.LogKeyRepositoryOwner: nil, // installation events name no single repository
		githubapp.LogKeyRepositoryName:  nil,
	}
	for k, v := range want {
		if got := line[k]; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("log key %s = %v, want %v", k, got, v)
		}
	}
	if calls := gh.calls(); len(calls) != 0 {
		t.Errorf("GitHub was called: %v", calls)
	}
}

func TestEventLogLinesNameInstallationAndRepository(t *testing.T) {
	gh := newFakeGitHub(t)
	h := &funcHandler{event: "check_run", fn: func(ctx context.Context, _ []byte) error {
		return errors.New("the handler failed")
	}}
	srv := startServer(t, testConfig(t, gh.URL), withHandler(h))

	code, _ := do(t, webhookRequest(t, srv.URL, "check_run", "delivery-2", fixture(t, "check_run.rerequested.json")))
	if code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 for a failed handler", code)
	}
	// The dispatcher's error line is logged through the request's context:
	// the keys added for the handler must be there too, each once.
	lines := srv.logs.lines("Unexpected error handling webhook")
	if len(lines) != 1 {
		t.Fatalf("want one error line, got:\n%s", srv.logs)
	}
	for _, kv := range []string{
		`"github_delivery_id":"delivery-2"`,
		`"github_event_type":"check_run"`,
		`"github_installation_id":1`,
		`"github_repository_owner":"github"`,
		`"github_repository_name":"hello-world"`,
		`"error":"the handler failed"`,
	} {
		if n := strings.Count(lines[0], kv); n != 1 {
			t.Errorf("%s appears %d times in %s", kv, n, lines[0])
		}
	}
}

func TestWebhookSignatureIsRequired(t *testing.T) {
	gh := newFakeGitHub(t)
	h := &funcHandler{event: "installation"}
	srv := startServer(t, testConfig(t, gh.URL), withHandler(h))
	body := fixture(t, "installation.created.json")

	for name, mutate := range map[string]func(*http.Request){
		"missing":      func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") },
		"wrong secret": func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", sign("not-the-secret", body)) },
		"other body":   func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", sign(testSecret, append(body, ' '))) },
		"not hex":      func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", "sha256=zzzz") },
		"no algorithm": func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", strings.TrimPrefix(sign(testSecret, body), "sha256="))
		},
		"unknown algorithm": func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", "md5="+strings.TrimPrefix(sign(testSecret, body), "sha256="))
		},
		"only a valid SHA-1 signature": func(r *http.Request) {
			r.Header.Del("X-Hub-Signature-256")
			mac := hmac.New(sha1.New, []byte(testSecret))
			mac.Write(body)
			r.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
		},
	} {
		t.Run(name, func(t *testing.T) {
			req := webhookRequest(t, srv.URL, "installation", "d", body)
			mutate(req)
			code, _ := do(t, req)
			if code < 400 || code >= 500 {
				t.Errorf("status %d, want 4xx", code)
			}
		})
	}
	if n := h.calls.Load(); n != 0 {
		t.Errorf("handler ran %d times for unsigned deliveries", n)
	}
	if calls := gh.calls(); len(calls) != 0 {
		t.Errorf("GitHub was called: %v", calls)
	}

	// The same delivery, correctly signed, does run the handler: the
	// refusals above are about the signatures.
	if code, _ := do(t, webhookRequest(t, srv.URL, "installation", "d", body)); code != http.StatusOK || h.calls.Load() != 1 {
		t.Errorf("signed delivery: status %d, handler calls %d", code, h.calls.Load())
	}
}

func TestOversizeWebhookIs413(t *testing.T) {
	gh := newFakeGitHub(t)
	h := &funcHandler{event: "push"}
	srv := startServer(t, testConfig(t, gh.URL), withHandler(h))
	big := bytes.Repeat([]byte(" "), MaxPayloadBytes+1)

	t.Run("with Content-Length", func(t *testing.T) {
		code, _ := do(t, webhookRequest(t, srv.URL, "push", "d", big))
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", code)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		req := webhookRequest(t, srv.URL, "push", "d", nil)
		req.Body = io.NopCloser(bytes.NewReader(big)) // no length: sent chunked
		req.ContentLength = -1
		req.Header.Set("X-Hub-Signature-256", sign(testSecret, big))
		code, _ := do(t, req)
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", code)
		}
	})
	if n := h.calls.Load(); n != 0 {
		t.Errorf("handler ran %d times", n)
	}
}

func TestHealth(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.URL)

	// Before Run the server answers but is not ready.
	s, err := New(cfg, WithVersion(testVersion), WithLogger((&logSink{}).logger()))
	if err != nil {
		t.Fatal(err)
	}
	starting := httptest.NewServer(s.Handler())
	defer starting.Close()
	code, body := do(t, mustRequest(t, http.MethodGet, starting.URL+HealthRoute))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"starting"`) {
		t.Errorf("before Run: %d %s", code, body)
	}

	srv := startServer(t, cfg)
	code, body = do(t, mustRequest(t, http.MethodGet, srv.URL+HealthRoute))
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("health body %q: %v", body, err)
	}
	if code != http.StatusOK || got["status"] != "ok" || got["version"] != testVersion {
		t.Errorf("serving: %d %v", code, got)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req := mustRequest(t, http.MethodGet, url+MetricsRoute)
	req.Header.Set("Accept", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("metrics status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("metrics do not parse as Prometheus text: %v", err)
	}
	return families
}

// sample returns the value of the metric of family name whose labels
// include labels.
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := families[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s with labels %v", name, labels)
	return nil
}

func TestMetricsIncludeGitHubAppMetricsAfterEvents(t *testing.T) {
	gh := newFakeGitHub(t)
	// A handler that reads the repository through an installation client, so
	// go-githubapp's client metrics see real requests.
	var base *handlers.Base
	reader := &funcHandler{event: "push", fn: func(ctx context.Context, payload []byte) error {
		client, err := base.NewInstallationClient(957387)
		if err != nil {
			return err
		}
		_, _, err = client.Repositories.Get(ctx, "Codertocat", "Hello-World")
		return err
	}}
	failing := &funcHandler{event: "check_run", fn: func(context.Context, []byte) error { return errors.New("boom") }}
	srv := startServer(t, testConfig(t, gh.URL), WithHandlers(func(b *handlers.Base) []githubapp.EventHandler {
		base = b
		return []githubapp.EventHandler{reader, failing}
	}))

	if code, body := do(t, webhookRequest(t, srv.URL, "push", "d1", fixture(t, "push.json"))); code != http.StatusOK {
		t.Fatalf("push: %d %s", code, body)
	}
	if code, _ := do(t, webhookRequest(t, srv.URL, "check_run", "d2", fixture(t, "check_run.rerequested.json"))); code != http.StatusInternalServerError {
		t.Fatalf("failing check_run: %d", code)
	}
	families := scrape(t, srv.URL)

	// GitHub saw the installation token request and the repository read;
	// go-githubapp counts only the API call, as the token is fetched below
	// its middleware.
	if calls := gh.calls(); len(calls) != 2 {
		t.Errorf("GitHub saw %v", calls)
	}
	if ua := gh.lastUserAgent(); ua != "flux-rollback/"+testVersion+" (installation: 957387)" {
		t.Errorf("User-Agent %q", ua)
	}
	if v := sample(t, families, "flux_rollback_github_requests_total", nil).GetCounter().GetValue(); v != 1 {
		t.Errorf("github requests %v, want 1", v)
	}
	if v := sample(t, families, "flux_rollback_github_requests_2xx_total", nil).GetCounter().GetValue(); v != 1 {
		t.Errorf("2xx requests %v, want 1", v)
	}
	if v := sample(t, families, "flux_rollback_github_rate_remaining", map[string]string{"installation": "957387"}).GetGauge().GetValue(); v != 4999 {
		t.Errorf("rate remaining %v, want 4999", v)
	}
	if v := sample(t, families, "flux_rollback_github_handler_error_total", map[string]string{"event": "check_run"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("handler errors %v, want 1", v)
	}
	if v := sample(t, families, "flux_rollback_github_event_duration_seconds", map[string]string{"event": "push"}).GetSummary().GetSampleCount(); v != 1 {
		t.Errorf("push durations counted %v, want 1", v)
	}
	if families["flux_rollback_github_event_duration_seconds"].GetType() != dto.MetricType_SUMMARY {
		t.Errorf("event duration is %v, want a summary", families["flux_rollback_github_event_duration_seconds"].GetType())
	}
	if v := sample(t, families, "flux_rollback_github_event_workers", nil).GetGauge().GetValue(); v != 0 {
		t.Errorf("events in flight %v, want 0", v)
	}
	if v := sample(t, families, "flux_rollback_build_info", map[string]string{"version": testVersion}).GetGauge().GetValue(); v != 1 {
		t.Errorf("build info %v", v)
	}
	logs := srv.logs.String()
	for what, secret := range map[string]string{"installation token": fakeToken, "webhook secret": testSecret, "private key": keyBody(t)} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", what)
		}
	}
}

// blockingHandler handles push events by waiting until released, and
// reports whether its context was still live when it finished.
type blockingHandler struct {
	started  chan struct{}
	release  chan struct{}
	finished chan error
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{started: make(chan struct{}, 10), release: make(chan struct{}), finished: make(chan error, 10)}
}

func (h *blockingHandler) Handles() []string { return []string{"push"} }

func (h *blockingHandler) Handle(ctx context.Context, _, _ string, _ []byte) error {
	h.started <- struct{}{}
	select {
	case <-h.release:
		h.finished <- ctx.Err()
		return ctx.Err()
	case <-ctx.Done():
		h.finished <- ctx.Err()
		return ctx.Err()
	}
}

// postAsync sends a webhook and returns its status on the channel, 0 when
// no response came.
func postAsync(req *http.Request) <-chan int {
	out := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- 0
			return
		}
		res.Body.Close()
		out <- res.StatusCode
	}()
	return out
}

func TestConcurrencyBoundRefusesWith503(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.URL)
	cfg.Rollback.MaxConcurrentEvents = 1
	h := newBlockingHandler()
	srv := startServer(t, cfg, withHandler(h))
	push := fixture(t, "push.json")

	first := postAsync(webhookRequest(t, srv.URL, "push", "d1", push))
	<-h.started

	code, _ := do(t, webhookRequest(t, srv.URL, "push", "d2", push))
	if code != http.StatusServiceUnavailable {
		t.Errorf("second event while one runs: %d, want 503", code)
	}
	close(h.release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first event: %d, want 200", code)
	}
	families := scrape(t, srv.URL)
	if v := sample(t, families, "flux_rollback_github_event_dropped_total", nil).GetCounter().GetValue(); v != 1 {
		t.Errorf("dropped events %v, want 1", v)
	}
	// The slot is free again.
	h2 := len(h.started)
	if code, _ := do(t, webhookRequest(t, srv.URL, "push", "d3", push)); code != http.StatusOK || len(h.started) != h2+1 {
		t.Errorf("third event: %d", code)
	}
}

func TestSIGTERMDrainsInFlightEvent(t *testing.T) {
	gh := newFakeGitHub(t)
	h := newBlockingHandler()
	srv := startServer(t, testConfig(t, gh.URL), withHandler(h))

	inFlight := postAsync(webhookRequest(t, srv.URL, "push", "d1", fixture(t, "push.json")))
	<-h.started
	stopping := srv.logs.seen("Shutting down")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-stopping

	// No new connections once shutdown has begun.
	if conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://")); err == nil {
		conn.Close()
		t.Error("a new connection was accepted after SIGTERM")
	}

	close(h.release)
	if code := <-inFlight; code != http.StatusOK {
		t.Errorf("in-flight event answered %d, want 200", code)
	}
	if err := <-h.finished; err != nil {
		t.Errorf("in-flight event's context ended early: %v", err)
	}
	<-srv.done
	if srv.err != nil {
		t.Errorf("Run after SIGTERM: %v", srv.err)
	}
}

func TestShutdownTimeoutCancelsEvents(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.URL)
	cfg.Server.ShutdownTimeout = time.Millisecond
	h := newBlockingHandler()
	logs := &logSink{}
	s, err := New(cfg, WithLogger(logs.logger()), withHandler(h))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	<-s.Ready()

	inFlight := postAsync(webhookRequest(t, "http://"+ln.Addr().String(), "push", "d1", fixture(t, "push.json")))
	<-h.started
	cancel()

	err = <-done
	if err == nil || !strings.Contains(err.Error(), "did not finish within 1ms") {
		t.Errorf("Run: %v, want a shutdown timeout error", err)
	}
	if err := <-h.finished; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned event's context: %v, want canceled", err)
	}
	<-inFlight
}

func TestSchedulerDetachesFromTheRequest(t *testing.T) {
	s := newSyncScheduler(context.Background(), 1, time.Hour, nil)
	parent, cancel := context.WithCancel(context.Background())
	cancel() // the client has hung up
	var seen error = errors.New("handler not run")
	h := &funcHandler{event: "push", fn: func(ctx context.Context, _ []byte) error {
		seen = ctx.Err()
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no per-event deadline")
		}
		return nil
	}}
	if err := s.Schedule(parent, githubapp.Dispatch{Handler: h, EventType: "push", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if seen != nil {
		t.Errorf("handler context: %v, want live", seen)
	}
}

func TestSchedulerEventTimeoutAndPanic(t *testing.T) {
	s := newSyncScheduler(context.Background(), 2, time.Nanosecond, nil)
	slow := &funcHandler{event: "push", fn: func(ctx context.Context, _ []byte) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	if err := s.Schedule(context.Background(), githubapp.Dispatch{Handler: slow, EventType: "push", Payload: []byte(`{}`)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow handler: %v, want deadline exceeded", err)
	}

	panicky := &funcHandler{event: "push", fn: func(context.Context, []byte) error { panic("kaboom") }}
	err := s.Schedule(context.Background(), githubapp.Dispatch{Handler: panicky, EventType: "push", Payload: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("panicking handler: %v", err)
	}
	// Both slots were given back.
	if len(s.slots) != 0 {
		t.Errorf("%d slots still taken", len(s.slots))
	}
}

func TestPanickingHandlerAnswers500(t *testing.T) {
	gh := newFakeGitHub(t)
	h := &funcHandler{event: "push", fn: func(context.Context, []byte) error { panic("kaboom") }}
	srv := startServer(t, testConfig(t, gh.URL), withHandler(h))
	if code, _ := do(t, webhookRequest(t, srv.URL, "push", "d", fixture(t, "push.json"))); code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", code)
	}
	if !strings.Contains(srv.logs.String(), "kaboom") {
		t.Error("the panic is not logged")
	}
}

func TestNewRefusesEmptySecret(t *testing.T) {
	cfg := DefaultConfig()
	if _, err := New(cfg); err == nil {
		t.Error("New accepted a configuration without a webhook secret")
	}
}
