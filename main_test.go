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
	"strings"
	"syscall"
	"testing"
)

const (
	testSecret = "webhook-secret-that-must-never-be-printed"
	// helperEnv makes the test binary act as the flux-rollback program.
	helperEnv = "FLUXROLLBACK_TEST_RUN_MAIN"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
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
		"missing webhook secret": {configYAML(key, 8080, "secret"), "webhook_secret is missing"},
		"missing app id":         {configYAML(key, 8080, "id"), "integration_id is missing"},
		"missing private key":    {configYAML("", 8080), "private_key is missing"},
		"unparsable private key": {configYAML(strings.Replace(key, keyLine, strings.Repeat("A", len(keyLine)), 1), 8080), "not a PEM-encoded RSA private key"},
		"bad URL":                {strings.Replace(configYAML(key, 8080), "http://127.0.0.1:1/", "not a url", 1), "github.v3_api_url"},
		"bad port":               {configYAML(key, 99999), "server.port 99999"},
		"unknown key":            {configYAML(key, 8080) + "rollback:\n  max_events: 3\n", "max_events"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"serve", "--config", writeConfig(t, tc.config)}, &stdout, &stderr)
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
		"version":         {[]string{"version"}, 0, "dev\n", ""},
		"serve bad flag":  {[]string{"serve", "--port", "1"}, 2, "", "flag provided but not defined"},
		"serve extra arg": {[]string{"serve", "config.yml"}, 2, "", `unexpected argument "config.yml"`},
		"missing config":  {[]string{"serve", "--config", "/nonexistent/config.yml"}, 1, "", "read config file"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderrPart) {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q %q", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderrPart)
			}
		})
	}
}

func TestVersionIsStamped(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v9.8.7"
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, io.Discard); code != 0 || stdout.String() != "v9.8.7\n" {
		t.Errorf("exit %d, printed %q", code, stdout.String())
	}
}

// TestDemoCommand runs `flux-rollback demo` as the README tells a newcomer
// to: it must play the whole flow and exit 0.
func TestDemoCommand(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo exited %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	for _, want := range []string{"The Rollback check run appears", "Pull request #1", "+  newTag: master-f01225d"} {
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
