package rollback_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// restoreHub is the embedded GitHub on loopback, reached by rollback.Service
// through the go-github adapter exactly as the handlers reach GitHub.
type restoreHub struct {
	gh     *fakegithub.GitHub
	client *github.Client
}

const restoreHubInstallation = 7

func newRestoreHub(tb testing.TB) *restoreHub {
	tb.Helper()
	gh := fakegithub.New(fakegithub.Options{AppID: 42, AppSlug: "flux-rollback"})
	srv := httptest.NewServer(gh)
	tb.Cleanup(srv.Close)
	gh.SetBaseURL(srv.URL)
	gh.AddInstallation(restoreHubInstallation, "acme")
	client := github.NewClient(&http.Client{Transport: srv.Client().Transport}).WithAuthToken(gh.IssueToken(restoreHubInstallation))
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		tb.Fatal(err)
	}
	client.BaseURL = base
	return &restoreHub{gh: gh, client: client}
}

// repo creates acme/name, where alice may write, and the service that rolls
// back in it.
func (h *restoreHub) repo(name string) (*fakegithub.Repo, *rollback.Service) {
	repo := h.gh.AddRepo("acme", name, fakegithub.RepoOptions{DefaultBranch: "main", Installation: restoreHubInstallation})
	repo.SetPermission("alice", "write")
	api := githubapi.NewRepo(h.client, "acme", name)
	return repo, &rollback.Service{Repo: api, Permissions: api, Writer: api, Pulls: api, History: api}
}

// restoreRequest asks, as alice, to undo commit on main.
//
// Holds are off: these tests look at the restore commit alone, at the tip
// of its branch; hold_test.go tests the hold commit on top of it.
func restoreRequest(commit string) rollback.Request {
	cfg := repoconfig.DefaultConfig()
	*cfg.Hold = false
	return rollback.Request{Commit: commit, Branch: "main", Requester: "alice", Config: cfg, RequireRelease: true}
}
