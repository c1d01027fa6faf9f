package main

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/handlers"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

// browser follows the local page's form to GitHub as a browser does: read
// the page, post its form (the page submits it by script), follow GitHub's
// redirect back to the local callback. It returns the last page.
func browser(t *testing.T, page string) (int, string) {
	t.Helper()
	res, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	action := regexp.MustCompile(`<form[^>]* action="([^"]+)"`).FindStringSubmatch(string(body))
	manifest := regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]*)"`).FindStringSubmatch(string(body))
	if action == nil || manifest == nil {
		t.Fatalf("the page has no form with the manifest:\n%s", body)
	}
	res, err = http.PostForm(html.UnescapeString(action[1]), url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	last, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(last)
}

// startRegister runs `flux-rollback register args...` and returns the local
// page's URL and the command's outcome.
func startRegister(t *testing.T, args ...string) (page string, done <-chan registerOutcome) {
	t.Helper()
	stderrR, stderrW := io.Pipe()
	ch := make(chan registerOutcome, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	go func() {
		var stdout strings.Builder
		code := run(ctx, append([]string{"register"}, args...), strings.NewReader(""), &stdout, stderrW)
		stderrW.Close()
		ch <- registerOutcome{code: code, stdout: stdout.String()}
	}()
	var stderr strings.Builder
	lines := bufio.NewScanner(stderrR)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+/) `).FindStringSubmatch(lines.Text()); m != nil {
			page = m[1]
			break
		}
	}
	if page == "" {
		t.Fatalf("no page announced:\n%s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stderrR) }()
	return page, ch
}

type registerOutcome struct {
	code   int
	stdout string
}

// TestRegisterEndToEnd registers the App on the embedded GitHub through the
// manifest flow over real HTTP, then runs the server with the files written
// and has GitHub deliver a signed webhook for a Flux release: the server
// authenticates as the new App and puts its check run on the release.
func TestRegisterEndToEnd(t *testing.T) {
	clearEnv(t)
	// The embedded GitHub's web pages (html_url) point at itself.
	var gh *fakegithub.GitHub
	githubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gh.ServeHTTP(w, r) }))
	defer githubServer.Close()
	gh = fakegithub.New(fakegithub.Options{WebURL: githubServer.URL})
	gh.SetBaseURL(githubServer.URL)

	port := freePort(t)
	webhookURL := fmt.Sprintf("http://127.0.0.1:%d/api/github/hook", port)
	dir := filepath.Join(t.TempDir(), "app")
	page, done := startRegister(t, "--webhook-url", webhookURL, "--org", "acme", "--name", "flux-rollback acme",
		"--github-url", githubServer.URL, "--api-url", githubServer.URL+"/", "--out", dir)

	status, last := browser(t, page)
	if status != http.StatusOK || !strings.Contains(last, "Registered flux-rollback acme") {
		t.Fatalf("the callback answered %d:\n%s", status, last)
	}
	outcome := <-done
	if outcome.code != 0 {
		t.Fatalf("register exited %d:\n%s", outcome.code, outcome.stdout)
	}

	regs := gh.Registrations()
	if len(regs) != 1 {
		t.Fatalf("registrations: %+v", regs)
	}
	reg := regs[0]
	if reg.Owner != "acme" || reg.Manifest.HookAttributes.URL != webhookURL || reg.Manifest.Public {
		t.Errorf("registered %+v", reg)
	}
	if !mapsEqual(reg.Manifest.DefaultPermissions, handlers.Permissions) || !slices.Equal(reg.Manifest.DefaultEvents, handlers.Events()) {
		t.Errorf("manifest asks for %v and %v; the handlers need %v and %v",
			reg.Manifest.DefaultPermissions, reg.Manifest.DefaultEvents, handlers.Permissions, handlers.Events())
	}

	files := map[string]string{}
	for _, name := range []string{"app-id", "webhook-secret", "private-key.pem"} {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(data)
	}
	if strings.TrimSpace(files["app-id"]) != fmt.Sprint(reg.AppID) || files["webhook-secret"] != reg.WebhookSecret {
		t.Errorf("files hold id %q and another secret; GitHub registered %d", files["app-id"], reg.AppID)
	}
	if strings.Contains(outcome.stdout, reg.WebhookSecret) || strings.Contains(outcome.stdout, "PRIVATE KEY") {
		t.Error("a secret was printed")
	}
	if want := githubServer.URL + "/apps/" + reg.Slug + "/installations/new"; !strings.Contains(outcome.stdout, want) {
		t.Errorf("the output does not say how to install the App (%s):\n%s", want, outcome.stdout)
	}

	// The server, configured from the files alone.
	p := startProgram(t, []string{"serve"},
		helperDefaultConfigEnv+"="+filepath.Join(t.TempDir(), "none.yml"),
		"FLUXROLLBACK_ADDRESS=127.0.0.1",
		fmt.Sprintf("FLUXROLLBACK_PORT=%d", port),
		"GITHUB_APP_INTEGRATION_ID="+strings.TrimSpace(files["app-id"]),
		"GITHUB_APP_WEBHOOK_SECRET="+files["webhook-secret"],
		"FLUXROLLBACK_PRIVATE_KEY_FILE="+filepath.Join(dir, "private-key.pem"),
		"GITHUB_WEB_URL="+githubServer.URL,
		"GITHUB_V3_API_URL="+githubServer.URL+"/",
		"GITHUB_V4_API_URL="+githubServer.URL+"/graphql",
	)

	// Installing the App on acme, and a Flux release.
	gh.AddInstallation(sandbox.InstallationID, "acme")
	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{Installation: sandbox.InstallationID})
	if _, err := repo.Commit("main", fakegithub.CommitSpec{Message: "Add the deploy configuration", Author: sandbox.Human,
		Files: map[string]*fakegithub.File{sandbox.KustomizationPath: {Content: sandbox.SampleKustomization}}}); err != nil {
		t.Fatal(err)
	}
	release, err := (&sandbox.GitOpsRepo{Repo: repo}).ReleaseV1(context.Background(), "gcr.io/track-compliance/api-js", "master-26a4b87")
	if err != nil {
		t.Fatal(err)
	}
	deliveries := gh.Deliveries()
	if len(deliveries) == 0 || deliveries[len(deliveries)-1].StatusCode != http.StatusOK {
		t.Fatalf("deliveries %+v", deliveries)
	}
	// Pushes are acknowledged once queued and handled right after, so the
	// check run follows the delivery's answer.
	for deadline := time.Now().Add(30 * time.Second); len(repo.CheckRuns(release)) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if runs := repo.CheckRuns(release); len(runs) != 1 {
		t.Errorf("check runs on the release: %+v", runs)
	}
	logs, err := p.stop()
	if err != nil {
		t.Errorf("server: %v\n%s", err, logs)
	}
	if strings.Contains(logs, reg.WebhookSecret) {
		t.Error("the server logged the webhook secret")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRegisterPrintsAKubernetesSecret: with --output kubernetes the
// credentials go to stdout as a Secret with the keys deploy/ reads, the
// summary to stderr, and no file is written.
func TestRegisterPrintsAKubernetesSecret(t *testing.T) {
	var gh *fakegithub.GitHub
	githubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gh.ServeHTTP(w, r) }))
	defer githubServer.Close()
	gh = fakegithub.New(fakegithub.Options{WebURL: githubServer.URL})
	dir := t.TempDir()
	t.Chdir(dir)
	page, done := startRegister(t, "--webhook-url", "https://rollback.example.com", "--output", "kubernetes",
		"--github-url", githubServer.URL, "--api-url", githubServer.URL+"/")
	if status, last := browser(t, page); status != http.StatusOK {
		t.Fatalf("callback %d: %s", status, last)
	}
	outcome := <-done
	if outcome.code != 0 {
		t.Fatalf("exit %d", outcome.code)
	}
	reg := gh.Registrations()[0]
	if reg.Owner != "" || reg.Manifest.HookAttributes.URL != "https://rollback.example.com/api/github/hook" {
		t.Errorf("registered %+v", reg)
	}
	var secret struct {
		Kind       string            `yaml:"kind"`
		StringData map[string]string `yaml:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(outcome.stdout), &secret); err != nil {
		t.Fatalf("stdout is not a manifest: %v", err)
	}
	if secret.Kind != "Secret" || secret.StringData["app-id"] != fmt.Sprint(reg.AppID) || secret.StringData["webhook-secret"] != reg.WebhookSecret ||
		!strings.Contains(secret.StringData["private-key.pem"], "PRIVATE KEY") {
		t.Errorf("secret %+v", secret.Kind)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}
