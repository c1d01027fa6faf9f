package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCheckConfig runs `flux-rollback check-config` as CI would: every
// problem on its own line with file, line, key and the form expected, and a
// non-zero exit status when there is one.
func TestCheckConfig(t *testing.T) {
	key := testKeyPEM(t)
	good := writeConfig(t, configYAML(key, 8080))
	bad := writeConfig(t, configYAML(key, 8080)+"rollback:\n  event_timeout: 30\n  max_event: 3\n")
	badPort := writeConfig(t, strings.Replace(configYAML(key, 8080), "port: 8080", `port: "8080"`, 1))
	goodRepo := writeConfig(t, "version: 1\npull_request:\n  labels: [rollback]\n")
	badRepo := writeConfig(t, "version: 1\nminimum_role: reader\npull_requests: {}\npull_request:\n  reviewer: [alice]\n")
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		code int
		want []string // lines of stdout, with "FILE" for the file's path
	}{
		"a valid server configuration": {[]string{"--config", good}, nil, 0,
			[]string{good + ": ok"}},
		"the environment only": {nil, map[string]string{"GITHUB_APP_INTEGRATION_ID": "7", "GITHUB_APP_WEBHOOK_SECRET": testSecret, "GITHUB_APP_PRIVATE_KEY": key}, 0,
			[]string{"server configuration (defaults and environment, no file): ok"}},
		"every problem of the file": {[]string{"--config", bad}, nil, 1, []string{
			bad + `:38: rollback.event_timeout: 30 is not a duration; write 30s`,
			bad + `:39: rollback.max_event: unknown key; did you mean rollback.max_concurrent_events?`,
		}},
		"a port written as a string": {[]string{"--config", badPort}, nil, 1, []string{
			badPort + `:2: server.port: "8080" is a string; write a number`,
		}},
		"the environment's problems": {[]string{"--config", good}, map[string]string{"FLUXROLLBACK_PORT": "0", "FLUXROLLBACK_SHUTDOWN_TIMEOUT": "45"}, 1, []string{
			`FLUXROLLBACK_SHUTDOWN_TIMEOUT: 45 is not a duration; write 45s`,
			`FLUXROLLBACK_PORT: server.port: 0 is not a TCP port; write 1-65535`,
		}},
		"a valid repository file alone": {[]string{"--repo-file", goodRepo}, nil, 0,
			[]string{goodRepo + ": ok"}},
		"a repository file's problems": {[]string{"--repo-file", badRepo}, nil, 1, []string{
			badRepo + `:2: minimum_role: "reader" is not one of write, maintain, admin`,
			badRepo + `:3: pull_requests: unknown key; did you mean pull_request?`,
			badRepo + `:5: pull_request.reviewer: unknown key; did you mean pull_request.reviewers?`,
		}},
		"both": {[]string{"--config", good, "--repo-file", goodRepo}, nil, 0,
			[]string{good + ": ok", goodRepo + ": ok"}},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"check-config"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr.String())
			}
			got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("printed:\n%s\nwant:\n%s", stdout.String(), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("line %d: %q\nwant %q", i+1, got[i], tc.want[i])
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), testSecret) || strings.Contains(stdout.String(), strings.Split(key, "\n")[2]) {
				t.Error("a secret was printed")
			}
		})
	}
}
