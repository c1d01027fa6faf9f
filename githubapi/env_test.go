package githubapi_test

import (
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
)

const (
	installationID = 101
	owner          = "acme"
	repoName       = "deploy"
)

// fakeEnv is the embedded GitHub served over HTTP on loopback, with one
// repository, and the adapter that reads and writes it through an
// installation token, as the app does in production.
type fakeEnv struct {
	gh   *fakegithub.GitHub
	srv  *httptest.Server
	repo *fakegithub.Repo
	api  *githubapi.Repo
}

// newFakeEnv starts the fake. wrap, when not nil, wraps the client's
// transport (to observe the requests as the client sees them).
func newFakeEnv(tb testing.TB, wrap func(http.RoundTripper) http.RoundTripper) *fakeEnv {
	tb.Helper()
	// No app key: the tests take installation tokens from IssueToken and
	// never call the routes that need the app's JWT.
	return startFakeEnv(tb, fakegithub.Options{AppID: 42, AppSlug: "flux-rollback"}, wrap)
}

// newFakeEnvWithKey starts the fake knowing the App's public key, so that
// a go-githubapp client creator can take installation tokens from it as
// from GitHub.
func newFakeEnvWithKey(tb testing.TB, key *rsa.PublicKey) *fakeEnv {
	tb.Helper()
	return startFakeEnv(tb, fakegithub.Options{AppID: 42, AppSlug: "flux-rollback", AppPublicKey: key}, nil)
}

func startFakeEnv(tb testing.TB, opts fakegithub.Options, wrap func(http.RoundTripper) http.RoundTripper) *fakeEnv {
	tb.Helper()
	gh := fakegithub.New(opts)
	srv := httptest.NewServer(gh)
	tb.Cleanup(srv.Close)
	gh.SetBaseURL(srv.URL)
	gh.AddInstallation(installationID, owner)
	repo := gh.AddRepo(owner, repoName, fakegithub.RepoOptions{DefaultBranch: "main", Installation: installationID})

	transport := srv.Client().Transport
	if wrap != nil {
		transport = wrap(transport)
	}
	client := github.NewClient(&http.Client{Transport: transport}).WithAuthToken(gh.IssueToken(installationID))
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		tb.Fatal(err)
	}
	client.BaseURL = base
	return &fakeEnv{gh: gh, srv: srv, repo: repo, api: githubapi.NewRepo(client, owner, repoName)}
}
