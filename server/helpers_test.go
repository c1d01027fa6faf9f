package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

const (
	testSecret  = "webhook-secret-that-must-never-be-printed"
	testAppID   = 4242
	testVersion = "1.2.3-test"
)

var (
	keyOnce  sync.Once
	rsaKey   *rsa.PrivateKey
	keyError error
)

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() { rsaKey, keyError = rsa.GenerateKey(rand.Reader, 2048) })
	if keyError != nil {
		t.Fatal(keyError)
	}
	return rsaKey
}

// pkcs1PEM is the key as GitHub hands it out.
func pkcs1PEM(t *testing.T) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey(t))}))
}

// pkcs8PEM is the key after `openssl pkcs8 -topk8`.
func pkcs8PEM(t *testing.T) string {
	der, err := x509.MarshalPKCS8PrivateKey(testRSAKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// keyBody is a piece of the key's base64 body, to look for in output.
func keyBody(t *testing.T) string {
	lines := strings.Split(pkcs1PEM(t), "\n")
	return lines[3]
}

// clearEnv unsets every variable the configuration reads, for the test's
// duration, so that the machine's environment cannot leak into it.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FLUXROLLBACK_") || strings.HasPrefix(k, "GITHUB_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testConfig is a valid configuration whose GitHub is apiURL.
func testConfig(t *testing.T, apiURL string) *Config {
	t.Helper()
	c := DefaultConfig()
	c.GitHub.App.IntegrationID = testAppID
	c.GitHub.App.WebhookSecret = testSecret
	c.GitHub.App.PrivateKey = pkcs1PEM(t)
	c.GitHub.V3APIURL = apiURL + "/"
	c.GitHub.V4APIURL = apiURL + "/graphql"
	// Each test turns on what it tests: pushes handled while the
	// request waits, no sweeper, no delay at shutdown.
	c.Rollback.QueueSize = 0
	c.Redelivery.Interval = 0
	c.Server.ShutdownDelay = 0
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// sign computes X-Hub-Signature-256 as GitHub does.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// webhookRequest is a delivery as GitHub sends it, signed with secret.
func webhookRequest(t *testing.T, baseURL, event, delivery string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+WebhookRoute, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", sign(testSecret, body))
	return req
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// logSink collects log lines and lets a test wait for one.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []sinkWaiter
}

type sinkWaiter struct {
	substr string
	ch     chan struct{}
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if bytes.Contains(p, []byte(w.substr)) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	s.waiters = kept
	return len(p), nil
}

// seen returns a channel closed when a line containing substr is logged
// (after the call).
func (s *logSink) seen(substr string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.waiters = append(s.waiters, sinkWaiter{substr, ch})
	return ch
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// lines returns the logged lines that contain substr.
func (s *logSink) lines(substr string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}

func (s *logSink) logger() zerolog.Logger {
	return zerolog.New(s).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// running is a server started by startServer.
type running struct {
	*Server
	URL  string
	logs *logSink
	stop context.CancelFunc
	// done is closed when Run has returned err.
	done chan struct{}
	err  error
}

// startServer runs a server on a random loopback port until the test ends.
func startServer(t *testing.T, cfg *Config, opts ...Option) *running {
	t.Helper()
	logs := &logSink{}
	opts = append([]Option{WithVersion(testVersion), WithLogger(logs.logger())}, opts...)
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Server: s, URL: "http://" + ln.Addr().String(), logs: logs, stop: cancel, done: make(chan struct{})}
	go func() {
		r.err = s.Run(ctx, ln)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
		if r.err != nil {
			t.Errorf("Run: %v", r.err)
		}
	})
	select {
	case <-s.Ready():
	case <-r.done:
		t.Fatalf("Run ended before serving: %v", r.err)
	}
	return r
}

// fakeGitHub answers the two API calls the tests' handlers make and counts
// every request it receives.
type fakeGitHub struct {
	URL        string
	mu         sync.Mutex
	requests   []string
	userAgents []string
}

const fakeToken = "ghs_installationtokenthatmustneverbelogged"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"token":"`+fakeToken+`","expires_at":"2999-01-01T00:00:00Z"}`)
	})
	mux.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+fakeToken {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4999")
		io.WriteString(w, `{"name":"`+r.PathValue("repo")+`","owner":{"login":"`+r.PathValue("owner")+`"},"default_branch":"main"}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		f.userAgents = append(f.userAgents, r.UserAgent())
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeGitHub) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeGitHub) lastUserAgent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.userAgents) == 0 {
		return ""
	}
	return f.userAgents[len(f.userAgents)-1]
}
