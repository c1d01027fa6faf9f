package fakegithub_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// TestGoGithubappClients drives the fake with go-githubapp's own caching
// client creator: ghinstallation's JWT and token exchange, and the HTTP
// cache revalidating with If-None-Match.
func TestGoGithubappClients(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{".github/flux-rollback.yml": "enabled: true\n"})
	var cfg githubapp.Config
	cfg.V3APIURL = e.srv.URL
	cfg.App.IntegrationID = appID
	cfg.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(e.key)}))
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg, githubapp.WithClientCaching(true, func() httpcache.Cache { return httpcache.NewMemoryCache() }))
	if err != nil {
		t.Fatal(err)
	}
	app, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	inst, _, err := app.Apps.FindRepositoryInstallation(ctx, "acme", "deploy")
	if err != nil || inst.GetID() != installationID {
		t.Fatalf("installation = %+v (%v)", inst, err)
	}
	client, err := cc.NewInstallationClient(installationID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, _, _, err := client.Repositories.GetContents(ctx, "acme", "deploy", ".github/flux-rollback.yml", nil); err != nil {
			t.Fatal(err)
		}
	}
	var contents []fakegithub.Request
	for _, r := range e.gh.Requests() {
		if r.Route == "GET /repos/{owner}/{repo}/contents/{path}" {
			contents = append(contents, r)
		}
	}
	if len(contents) != 2 || contents[0].Status != http.StatusOK || contents[1].Status != http.StatusNotModified {
		var statuses []int
		for _, r := range contents {
			statuses = append(statuses, r.Status)
		}
		t.Fatalf("contents requests answered %v, want [200 304]", statuses)
	}
	if contents[0].InstallationID != installationID {
		t.Fatalf("installation of the request = %d", contents[0].InstallationID)
	}
}
