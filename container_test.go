package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerfile returns the Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// TestDockerfile checks what the image promises: bases pinned by digest,
// the version stamped into variables that exist, the OCI labels, a
// non-root user.
func TestDockerfile(t *testing.T) {
	var froms, labels, users []string
	var build string
	for _, ins := range dockerfile(t) {
		switch word, rest, _ := strings.Cut(ins, " "); strings.ToUpper(word) {
		case "FROM":
			froms = append(froms, rest)
		case "LABEL":
			labels = append(labels, rest)
		case "USER":
			users = append(users, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = rest
			}
		}
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}( AS \w+)?$`)
	if len(froms) != 2 {
		t.Errorf("want a build and a runtime stage, got %q", froms)
	}
	for _, f := range froms {
		if !pinned.MatchString(f) {
			t.Errorf("base image %q is not pinned by digest", f)
		}
	}
	stamped := map[string]bool{}
	for _, m := range regexp.MustCompile(`-X (main\.\w+)=`).FindAllStringSubmatch(build, -1) {
		stamped[m[1]] = true
	}
	// -X on a variable that does not exist is silently ignored by the
	// linker, so the names are checked here.
	if len(stamped) != 3 || !stamped["main.version"] || !stamped["main.commit"] || !stamped["main.date"] {
		t.Errorf("the build stamps %v, want main.version, main.commit and main.date: %s", stamped, build)
	}
	allLabels := strings.Join(labels, " ")
	for _, l := range []string{"title", "description", "source", "licenses", "version", "revision", "created"} {
		if !strings.Contains(allLabels, "org.opencontainers.image."+l+"=") {
			t.Errorf("no org.opencontainers.image.%s label", l)
		}
	}
	if len(users) != 1 || users[0] != "nonroot:nonroot" {
		t.Errorf("USER %q, want nonroot:nonroot", users)
	}
}

// entrypointArgs is the image's ENTRYPOINT without the program itself.
func entrypointArgs(t *testing.T) []string {
	t.Helper()
	for _, ins := range dockerfile(t) {
		if rest, ok := strings.CutPrefix(ins, "ENTRYPOINT "); ok {
			var argv []string
			if err := json.Unmarshal([]byte(rest), &argv); err != nil || len(argv) < 2 || argv[0] != "/flux-rollback" {
				t.Fatalf("ENTRYPOINT %s is not [\"/flux-rollback\", ...]", rest)
			}
			return argv[1:]
		}
	}
	t.Fatal("the Dockerfile has no ENTRYPOINT")
	return nil
}

// TestContainerStartsFromEnvironmentOnly runs the program as the image's
// entrypoint does, with no configuration file mounted and only environment
// variables, as in `docker run -e ...` or a Deployment's env.
func TestContainerStartsFromEnvironmentOnly(t *testing.T) {
	clearEnv(t)
	key := testKeyPEM(t)
	keyFile := filepath.Join(t.TempDir(), "private-key.pem")
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := startProgram(t, entrypointArgs(t),
		helperDefaultConfigEnv+"="+filepath.Join(t.TempDir(), "not-mounted", "config.yml"),
		"FLUXROLLBACK_ADDRESS=127.0.0.1",
		fmt.Sprintf("FLUXROLLBACK_PORT=%d", port),
		"GITHUB_APP_INTEGRATION_ID=99",
		"GITHUB_APP_WEBHOOK_SECRET="+testSecret,
		"FLUXROLLBACK_PRIVATE_KEY_FILE="+keyFile,
		"GITHUB_V3_API_URL=http://127.0.0.1:1/",
	)
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/health", port))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("health %d", res.StatusCode)
	}
	if logs, err := p.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs)
	}
}

// TestServeReadsTheMountedConfig: without --config, serve reads the file
// at the default path when one is mounted there, and only then.
func TestServeReadsTheMountedConfig(t *testing.T) {
	defer func(p string) { defaultConfigPath = p }(defaultConfigPath)
	dir := t.TempDir()
	defaultConfigPath = filepath.Join(dir, "config.yml")
	if got := configFile(""); got != "" {
		t.Errorf("no file mounted: read %q", got)
	}
	if err := os.WriteFile(defaultConfigPath, []byte("server: {port: 8081}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := configFile(""); got != defaultConfigPath {
		t.Errorf("mounted file: read %q", got)
	}
	if got := configFile("other.yml"); got != "other.yml" {
		t.Errorf("--config other.yml: read %q", got)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// program is the flux-rollback program running as a process of its own.
type program struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	stderr io.Reader
}

// startProgram runs the test binary as flux-rollback with args and the
// extra environment, and waits until it says it is serving.
func startProgram(t *testing.T, args []string, env ...string) *program {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	p := &program{cmd: cmd, logs: &bytes.Buffer{}, stderr: stderr}
	lines := bufio.NewScanner(stderr)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		p.logs.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "flux-rollback is serving") {
			return p
		}
	}
	_ = cmd.Wait()
	t.Fatalf("the program did not start serving: %v\n%s", lines.Err(), p.logs.String())
	return nil
}

// stop sends SIGTERM and returns the logs and the exit error.
func (p *program) stop() (string, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return p.logs.String(), err
	}
	done := make(chan error, 1)
	go func() {
		rest, _ := io.ReadAll(p.stderr)
		p.logs.Write(rest)
		done <- p.cmd.Wait()
	}()
	select {
	case err := <-done:
		return p.logs.String(), err
	case <-time.After(30 * time.Second):
		return p.logs.String(), fmt.Errorf("still running 30s after SIGTERM")
	}
}
