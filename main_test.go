package main

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
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

const (
	testSecret = "webhook-secret-that-must-never-be-printed"
	// helperEnv makes the test binary act as the flux-rollback program.
	helperEnv = "FLUXROLLBACK_TEST_RUN_MAIN"
	// helperDefaultConfigEnv replaces defaultConfigPath in the program, so
	// that the tests do not depend on what /etc holds.
	helperDefaultConfigEnv = "FLUXROLLBACK_TEST_DEFAULT_CONFIG"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		if p, ok := os.LookupEnv(helperDefaultConfigEnv); ok {
			defaultConfigPath = p
		}
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func testKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// clearEnv unsets every variable the configuration reads, for the test's
// duration.
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

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configYAML is a complete configuration; drop names keys to leave out.
func configYAML(key string, port int, drop ...string) string {
	lines := []string{
		"server:",
		fmt.Sprintf("  port: %d", port),
		"  address: 127.0.0.1",
		"github:",
		"  v3_api_url: http://127.0.0.1:1/",
		"  app:",
		"    integration_id: 99",
		"    webhook_secret: " + testSecret,
		"    private_key: |",
	}
	for _, l := range strings.Split(strings.TrimSpace(key), "\n") {
		lines = append(lines, "      "+l)
	}
	out := strings.Join(lines, "\n") + "\n"
	for _, d := range drop {
		switch d {
		case "secret":
			out = strings.Replace(out, "    webhook_secret: "+testSecret+"\n", "", 1)
		case "id":
			out = strings.Replace(out, "    integration_id: 99\n", "", 1)
		}
	}
	return out
}

func TestStartupRefusals(t *testing.T) {
	key := testKeyPEM(t)
	keyLine := strings.Split(key, "\n")[2]
	for name, tc := range map[string]struct {
		config string
		want   string
	}{
		"missing webhook secret": {configYAML(key, 8080, "secret"), "github.app.webhook_secret: missing"},
		"missing app id":         {configYAML(key, 8080, "id"), "github.app.integration_id: missing"},
		"missing private key":    {configYAML("", 8080), "github.app.private_key: missing"},
		"unparsable private key": {configYAML(strings.Replace(key, keyLine, strings.Repeat("A", len(keyLine)), 1), 8080), "not a PEM-encoded RSA private key"},
		"bad URL":                {strings.Replace(configYAML(key, 8080), "http://127.0.0.1:1/", "not a url", 1), "github.v3_api_url"},
		"bad port":               {configYAML(key, 99999), "server.port: 99999 is not a TCP port"},
		"unknown key":            {configYAML(key, 8080) + "rollback:\n  max_events: 3\n", "rollback.max_events: unknown key; did you mean rollback.max_concurrent_events?"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"serve", "--config", writeConfig(t, tc.config)}, strings.NewReader(""), &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			out := stderr.String()
			if !strings.HasPrefix(out, "flux-rollback: ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Errorf("want exactly one line, got %q", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("%q does not say %q", out, tc.want)
			}
			if strings.Contains(out+stdout.String(), testSecret) || strings.Contains(out, keyLine) {
				t.Errorf("a secret was printed: %q", out)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	for name, tc := range map[string]struct {
		args       []string
		code       int
		stdout     string
		stderrPart string
	}{
		"no command":      {nil, 2, "", "usage:"},
		"unknown command": {[]string{"deploy"}, 2, "", `unknown command "deploy"`},
		"demo extra arg":  {[]string{"demo", "now"}, 2, "", `unexpected argument "now"`},
		"demo bad flag":   {[]string{"demo", "--fast"}, 2, "", "flag provided but not defined"},
		"version":         {[]string{"version"}, 0, "flux-rollback dev\n", ""},
		"version extra":   {[]string{"version", "--short"}, 2, "", "flag provided but not defined"},
		"serve bad flag":  {[]string{"serve", "--port", "1"}, 2, "", "flag provided but not defined"},
		"serve extra arg": {[]string{"serve", "config.yml"}, 2, "", `unexpected argument "config.yml"`},
		"missing config":  {[]string{"serve", "--config", "/nonexistent/config.yml"}, 1, "", "read config file"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderrPart) {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q %q", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderrPart)
			}
		})
	}
}

func TestVersionIsStamped(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v9.8.7", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T12:00:00Z"
	var stdout bytes.Buffer
	code := run(context.Background(), []string{"version"}, strings.NewReader(""), &stdout, io.Discard)
	if want := "flux-rollback v9.8.7 (commit 0123456789abcdef0123456789abcdef01234567, 2026-11-30T12:00:00Z)\n"; code != 0 || stdout.String() != want {
		t.Errorf("exit %d, printed %q, want %q", code, stdout.String(), want)
	}
}

// TestDescribeBuild covers a plain `go build` in a git checkout (Go records
// vcs.* in the build info), `go install module@version`, and the -ldflags
// stamps of the Dockerfile, which win over the build info.
func TestDescribeBuild(t *testing.T) {
	vcs := func(rev, when, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: modified}}
	}
	for name, tc := range map[string]struct {
		stamped [3]string // version, commit, date
		info    *debug.BuildInfo
		want    string
	}{
		"go build in a clean checkout": {info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("aaaa", "2026-11-01T10:00:00Z", "false")},
			want: "flux-rollback dev (commit aaaa, 2026-11-01T10:00:00Z)"},
		"go build with local changes": {info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("aaaa", "2026-11-01T10:00:00Z", "true")},
			want: "flux-rollback dev (commit aaaa, 2026-11-01T10:00:00Z, modified)"},
		"go install at a version": {info: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			want: "flux-rollback v1.4.0"},
		"no build info": {want: "flux-rollback dev"},
		"stamped by the Dockerfile": {stamped: [3]string{"v2.0.0", "bbbb", "2026-11-02T00:00:00Z"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("aaaa", "2026-11-01T10:00:00Z", "true")},
			want: "flux-rollback v2.0.0 (commit bbbb, 2026-11-02T00:00:00Z)"},
		"only the version stamped": {stamped: [3]string{"v2.0.0", "", ""},
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("aaaa", "2026-11-01T10:00:00Z", "false")},
			want: "flux-rollback v2.0.0 (commit aaaa, 2026-11-01T10:00:00Z)"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
			version, commit, date = tc.stamped[0], tc.stamped[1], tc.stamped[2]
			if got := describeBuild(tc.info).String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEveryCommandAnswersHelp: --help and -h print the usage line and every
// flag on stdout and exit 0.
func TestEveryCommandAnswersHelp(t *testing.T) {
	for cmd, flags := range commandFlags {
		for _, help := range []string{"--help", "-h"} {
			t.Run(cmd+" "+help, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{cmd, help}, strings.NewReader(""), &stdout, &stderr)
				out := stdout.String()
				if code != 0 || stderr.Len() != 0 {
					t.Fatalf("exit %d, stderr %q", code, stderr.String())
				}
				if !strings.HasPrefix(out, "usage: flux-rollback "+cmd) {
					t.Errorf("no usage line:\n%s", out)
				}
				for _, f := range flags {
					if !strings.Contains(out, "  -"+f) {
						t.Errorf("flag -%s is not described:\n%s", f, out)
					}
				}
			})
		}
	}
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, strings.NewReader(""), &stdout, io.Discard); code != 0 {
		t.Errorf("--help exited %d", code)
	}
	for cmd := range commandFlags {
		if !strings.Contains(stdout.String(), "\n  "+cmd+" ") {
			t.Errorf("the usage does not list %s:\n%s", cmd, stdout.String())
		}
	}
}

// commandFlags lists every subcommand with its flags.
var commandFlags = map[string][]string{
	"serve":        {"config"},
	"check-config": {"config", "repo-file"},
	"register":     {"webhook-url", "name", "org", "github-url", "api-url", "homepage", "public", "listen", "out", "output", "secret-name"},
	"demo":         {"keep"},
	"version":      nil,
}

// TestDemoCommand runs `flux-rollback demo` as the README tells a newcomer
// to: it must play the whole flow and exit 0.
func TestDemoCommand(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo exited %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	for _, want := range []string{"The Rollback check run appears", "Pull request #1", "+  newTag: master-f01225d", "Held: api-js", "Resume automation"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestServeStopsOnSIGTERM runs the program as a real process: it serves a
// signed webhook and health, and exits 0 on SIGTERM without printing a secret.
func TestServeStopsOnSIGTERM(t *testing.T) {
	clearEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	key := testKeyPEM(t)

	cmd := exec.Command(os.Args[0], "serve", "--config", writeConfig(t, configYAML(key, port)))
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var logs bytes.Buffer
	lines := bufio.NewScanner(stderr)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() && !strings.Contains(lines.Text(), "flux-rollback is serving") {
		logs.WriteString(lines.Text() + "\n")
	}
	if lines.Err() != nil || !strings.Contains(lines.Text(), "serving") {
		t.Fatalf("the program did not start serving: %v\n%s", lines.Err(), logs.String())
	}
	logs.WriteString(lines.Text() + "\n")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	res, err := http.Get(base + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("health %d", res.StatusCode)
	}

	body, err := os.ReadFile(filepath.Join("testdata", "webhooks", "installation.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/hook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "installation")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("signed installation webhook: %d", res.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(stderr)
	if err != nil {
		t.Fatal(err)
	}
	logs.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	out := logs.String()
	for _, want := range []string{`"message":"installation changed"`, `"github_delivery_id":"72d3162e-cc78-11e3-81ab-4c9367dc0958"`, `"message":"Stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, testSecret) || strings.Contains(out, strings.Split(key, "\n")[2]) {
		t.Error("a secret appears in the logs")
	}
}

// TestDemoKeepReadsStdin: `demo --keep` takes its commands from stdin and
// stops at quit.
func TestDemoKeepReadsStdin(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo", "--keep"}, strings.NewReader("prs\nquit\n"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo --keep exited %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	if !strings.Contains(stdout.String(), "demo> ") || !strings.Contains(stdout.String(), "#2 [open] Resume Flux image automation for api-js") {
		t.Errorf("no prompt or no answer to prs:\n%s", stdout.String())
	}
}
