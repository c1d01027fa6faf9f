package fakegithub_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// A test plays GitHub: it makes a Flux release commit, pushes it (the app
// gets a signed push webhook), and reads what the app did through the
// inspection methods.
func Example() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	gh := fakegithub.New(fakegithub.Options{AppID: 42, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey})
	api := httptest.NewServer(gh)
	defer api.Close()
	gh.SetBaseURL(api.URL)

	// The app under test would verify X-Hub-Signature-256 with the secret.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := github.ValidatePayload(r, []byte("secret")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer app.Close()
	gh.SetWebhook(app.URL, "secret")

	gh.AddInstallation(101, "acme")
	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{DefaultBranch: "main", Installation: 101})
	flux := fakegithub.Person{Name: "Flux", Email: "flux@example.com", Login: "fluxcdbot", Date: time.Unix(1700000000, 0).UTC()}
	if _, err := repo.Commit("main", fakegithub.CommitSpec{Message: "Initial commit\n", Author: flux,
		Files: map[string]*fakegithub.File{"apps/podinfo.yaml": {Content: "image: podinfo:1.0.0\n"}}}); err != nil {
		panic(err)
	}
	sha, delivery, err := repo.CommitAndPush(context.Background(), "main", fakegithub.CommitSpec{
		Message: "Update podinfo to 1.1.0\n", Author: flux,
		Files: map[string]*fakegithub.File{"apps/podinfo.yaml": {Content: "image: podinfo:1.1.0\n"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sha, "(the SHA git computes for the same commit)")
	fmt.Println(delivery.Event, delivery.StatusCode, string(delivery.ResponseBody))

	// What the app sees through the API with an installation token.
	client := github.NewClient(nil).WithAuthToken(gh.IssueToken(101))
	client.BaseURL, _ = url.Parse(api.URL + "/")
	commit, _, err := client.Repositories.GetCommit(context.Background(), "acme", "deploy", sha, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(commit.GetAuthor().GetLogin(), commit.Files[0].GetStatus(), commit.Files[0].GetFilename())
	fmt.Println(commit.Files[0].GetPatch())
	// Output:
	// 9cc1e6b652a6e586724a2ef918832dbb4b8170bd (the SHA git computes for the same commit)
	// push 200 ok
	// fluxcdbot modified apps/podinfo.yaml
	// @@ -1 +1 @@
	// -image: podinfo:1.0.0
	// +image: podinfo:1.1.0
}
