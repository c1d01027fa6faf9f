package fakegithub_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

const (
	appID          = 42
	installationID = 101
)

var (
	keyOnce sync.Once
	appKey  *rsa.PrivateKey
)

// testKey is the app's private key, made once per test binary (RSA key
// generation is slow).
func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		appKey = k
	})
	return appKey
}

// env is a fake GitHub served over HTTP with one installation and one repo.
type env struct {
	gh   *fakegithub.GitHub
	srv  *httptest.Server
	repo *fakegithub.Repo
	key  *rsa.PrivateKey
}

func newEnv(t *testing.T) *env {
	t.Helper()
	key := testKey(t)
	gh := fakegithub.New(fakegithub.Options{AppID: appID, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey})
	srv := newServer(t, gh)
	gh.AddInstallation(installationID, "acme")
	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{DefaultBranch: "main", Installation: installationID})
	return &env{gh: gh, srv: srv, repo: repo, key: key}
}

// newServer serves gh over HTTP for the duration of the test.
func newServer(t *testing.T, gh *fakegithub.GitHub) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(gh)
	t.Cleanup(srv.Close)
	gh.SetBaseURL(srv.URL)
	return srv
}

// client returns a go-github client authenticated with token.
func (e *env) client(t *testing.T, token string) *github.Client {
	t.Helper()
	c := github.NewClient(nil)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	u, err := url.Parse(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// installationClient is a client with a token of the test installation.
func (e *env) installationClient(t *testing.T) *github.Client {
	t.Helper()
	return e.client(t, e.gh.IssueToken(installationID))
}

// jwtFor signs an app JWT with the given claims.
func jwtFor(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appJWT is a valid JWT for the app, as ghinstallation makes it.
func (e *env) appJWT(t *testing.T) string {
	now := time.Now()
	return jwtFor(t, e.key, jwt.MapClaims{
		"iat": now.Add(-30 * time.Second).Unix(),
		"exp": now.Add(2 * time.Minute).Unix(),
		"iss": strconv.Itoa(appID),
	})
}

func (e *env) appClient(t *testing.T) *github.Client {
	return e.client(t, e.appJWT(t))
}

// status returns the HTTP status of a go-github error (0 when err is nil).
func status(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	switch e := err.(type) {
	case *github.ErrorResponse:
		return e.Response.StatusCode
	case *github.RateLimitError:
		return e.Response.StatusCode
	case *github.AbuseRateLimitError:
		return e.Response.StatusCode
	}
	t.Fatalf("not a GitHub API error: %v", err)
	return 0
}

// wantStatus fails unless err is a GitHub error with code and message.
func wantStatus(t *testing.T, err error, code int, message string) {
	t.Helper()
	if got := status(t, err); got != code {
		t.Fatalf("status = %d (%v), want %d", got, err, code)
	}
	if message == "" {
		return
	}
	var msg string
	switch e := err.(type) {
	case *github.ErrorResponse:
		msg = e.Message
	case *github.RateLimitError:
		msg = e.Message
	case *github.AbuseRateLimitError:
		msg = e.Message
	}
	if msg != message {
		t.Fatalf("message = %q, want %q", msg, message)
	}
}

var ctx = context.Background()

// rawGet performs a request with the given Authorization header value.
func rawRequest(t *testing.T, method, url, auth string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
