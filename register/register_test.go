package register

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v57/github"
	"go.yaml.in/yaml/v3"
)

func TestURLs(t *testing.T) {
	for name, tc := range map[string]struct{ got, want string }{
		"account form":           {FormURL("https://github.com", "", "s1"), "https://github.com/settings/apps/new?state=s1"},
		"organization form":      {FormURL("https://github.com/", "acme", "s1"), "https://github.com/organizations/acme/settings/apps/new?state=s1"},
		"enterprise server form": {FormURL("https://ghe.example.com", "ops", "s1"), "https://ghe.example.com/organizations/ops/settings/apps/new?state=s1"},
		"github.com API":         {APIURLFor("https://github.com"), "https://api.github.com/"},
		"enterprise server API":  {APIURLFor("https://ghe.example.com/"), "https://ghe.example.com/api/v3/"},
		"install link":           {InstallURL(&github.AppConfig{HTMLURL: github.String("https://github.com/apps/flux-rollback")}), "https://github.com/apps/flux-rollback/installations/new"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %s, want %s", name, tc.got, tc.want)
		}
	}
}

func TestWebhookURLGetsTheHookRoute(t *testing.T) {
	opts := Options{WebhookURL: "https://rollback.example.com"}
	if err := opts.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if opts.WebhookURL != "https://rollback.example.com/api/github/hook" {
		t.Errorf("webhook URL %s", opts.WebhookURL)
	}
	for _, bad := range []string{"", "rollback.example.com/hook", "ftp://x/y"} {
		o := Options{WebhookURL: bad}
		if err := o.setDefaults(); err == nil {
			t.Errorf("webhook URL %q accepted", bad)
		}
	}
}

// TestCallbackChecksTheState: a redirect that does not carry this page's
// state is refused and the flow keeps waiting; no code is exchanged.
func TestCallbackChecksTheState(t *testing.T) {
	exchanged := make(chan string, 1)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exchanged <- r.URL.Path
		http.NotFound(w, r)
	})
	apiServer := httpServer(t, api)
	ready := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{WebhookURL: "https://x.example.com/", WebURL: apiServer, APIURL: apiServer + "/", Ready: func(p string) { ready <- p }})
		errc <- err
	}()
	page := <-ready
	res, err := http.Get(page + "callback?code=abc&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %d", res.StatusCode)
	}
	select {
	case p := <-exchanged:
		t.Errorf("a code was exchanged: %s", p)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-errc; err == nil {
		t.Error("Run returned no error when cancelled")
	}
}

func TestKubernetesSecret(t *testing.T) {
	app := &github.AppConfig{ID: github.Int64(42), WebhookSecret: github.String("s3cr3t"), PEM: github.String("-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----\n")}
	var b strings.Builder
	if err := KubernetesSecret(&b, "flux-rollback", app); err != nil {
		t.Fatal(err)
	}
	var secret struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Metadata   map[string]string `yaml:"metadata"`
		StringData map[string]string `yaml:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(b.String()), &secret); err != nil {
		t.Fatal(err)
	}
	if secret.Kind != "Secret" || secret.Metadata["name"] != "flux-rollback" || secret.StringData[FileAppID] != "42" ||
		secret.StringData[FileWebhookSecret] != "s3cr3t" || secret.StringData[FilePrivateKey] != app.GetPEM() {
		t.Errorf("secret:\n%s", b.String())
	}
}

func TestWriteFilesRefusesToReplace(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileWebhookSecret), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := &github.AppConfig{ID: github.Int64(1), WebhookSecret: github.String("new"), PEM: github.String("pem")}
	if _, err := WriteFiles(dir, app); err == nil {
		t.Fatal("replaced an existing file")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, FileWebhookSecret)); string(data) != "old" {
		t.Errorf("the old file now holds %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, FileAppID)); err == nil {
		t.Error("wrote some files before refusing")
	}
}

func httpServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
