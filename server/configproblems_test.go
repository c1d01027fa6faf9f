package server

import (
	"strings"
	"testing"
)

// TestConfigProblemMessages: every problem of a file is reported at once,
// each with the file, line, key path and the form to write instead.
func TestConfigProblemMessages(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"a number written as a string": {"server:\n  port: \"8080\"\n",
			[]string{`config.yml:2: server.port: "8080" is a string; write a number`}},
		"a duration written as a number": {"rollback:\n  event_timeout: 30\n",
			[]string{`config.yml:2: rollback.event_timeout: 30 is not a duration; write 30s`}},
		"a duration that does not parse": {"server:\n  shutdown_timeout: 30 sec\n",
			[]string{`config.yml:2: server.shutdown_timeout: "30 sec" is not a duration; write it like 30s, 2m or 1h30m`}},
		"a fraction for a whole number": {"rollback:\n  cache_size_mb: 1.5\n",
			[]string{`config.yml:2: rollback.cache_size_mb: 1.5 is not a whole number`}},
		"a key in camelCase": {"server:\n  logLevel: debug\n",
			[]string{`config.yml:2: server.logLevel: unknown key; did you mean server.log_level?`}},
		"a misspelt key": {"rollback:\n  max_concurent_events: 3\n",
			[]string{`config.yml:2: rollback.max_concurent_events: unknown key; did you mean rollback.max_concurrent_events?`}},
		"a shortened key": {"rollback:\n  max_events: 3\n",
			[]string{`config.yml:2: rollback.max_events: unknown key; did you mean rollback.max_concurrent_events?`}},
		"a key in the wrong section": {"port: 8080\n",
			[]string{`config.yml:1: port: unknown key; did you mean server.port?`}},
		"a key of go-githubapp's section": {"github:\n  app:\n    integration_ID: 1\n",
			[]string{`config.yml:3: github.app.integration_ID: unknown key; did you mean github.app.integration_id?`}},
		"a key of the repository defaults": {"rollback:\n  defaults:\n    pull_request:\n      label: [x]\n",
			[]string{`config.yml:4: rollback.defaults.pull_request.label: unknown key; did you mean rollback.defaults.pull_request.labels?`}},
		"a key left without a value": {"server:\n  port:\n",
			[]string{`config.yml:2: server.port: no value; give one (a number) or remove the key`}},
		"a list for a string": {"server:\n  address: [127.0.0.1]\n",
			[]string{`config.yml:2: server.address: is a list; write a string`}},
		"a string for a list": {"rollback:\n  defaults:\n    branches: main\n",
			[]string{`config.yml:3: rollback.defaults.branches: "main" is a string; write a list, like [a, b]`}},
		"a string for a boolean": {"rollback:\n  defaults:\n    pull_request:\n      draft: \"yes\"\n",
			[]string{`config.yml:4: rollback.defaults.pull_request.draft: "yes" is a string; write true or false`}},
		"a secret of the wrong form is not quoted": {"github:\n  app:\n    webhook_secret: {s3cr3t: 1}\n",
			[]string{`config.yml:3: github.app.webhook_secret: is a mapping; write a string`}},
		"a key set twice": {"server:\n  port: 1\n  port: 2\n",
			[]string{`config.yml:3: server.port: set twice (also on line 2); keep one`}},
		"not YAML": {"server: [\n",
			[]string{`config.yml:1: not valid YAML: did not find expected node content`}},
		"every problem at once": {"server:\n  port: \"8080\"\n  logLevel: debug\nrollback:\n  event_timeout: 30\n  client_timeout: 5s\n",
			[]string{
				`config.yml:2: server.port: "8080" is a string; write a number`,
				`config.yml:3: server.logLevel: unknown key; did you mean server.log_level?`,
				`config.yml:5: rollback.event_timeout: 30 is not a duration; write 30s`,
			}},
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			err := decodeStrict([]byte(tc.yaml), c, "config.yml")
			var got []string
			for _, p := range asProblems(err) {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if strings.Contains(strings.Join(got, ""), "s3cr3t") {
				t.Error("a secret value was quoted")
			}
		})
	}
}

// TestConfigProblemsKeepGoodValues: a wrong value keeps its default, and the
// right values next to it are applied, so one pass finds every problem.
func TestConfigProblemsKeepGoodValues(t *testing.T) {
	c := DefaultConfig()
	err := decodeStrict([]byte("server:\n  port: \"8080\"\n  address: 127.0.0.1\n  log_level: debug\n"), c, "config.yml")
	if len(asProblems(err)) != 1 {
		t.Fatalf("problems: %v", err)
	}
	if c.Server.Port != DefaultPort || c.Server.Address != "127.0.0.1" || c.Server.LogLevel != "debug" {
		t.Errorf("server %+v", c.Server)
	}
}

// TestLoadConfigReportsFileEnvironmentAndValidation: the file's, the
// environment's and validation's problems come together, in that order.
func TestLoadConfigReportsFileEnvironmentAndValidation(t *testing.T) {
	clearEnv(t)
	t.Setenv(EnvEventTimeout, "30")
	path := writeFile(t, "config.yml", "server:\n  port: \"8080\"\n")
	_, err := LoadConfig(path)
	ps := asProblems(err)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		path + `:2: server.port: "8080" is a string; write a number`,
		EnvEventTimeout + `: 30 is not a duration; write 30s`,
		`github.app.integration_id: missing; write the App ID (or set GITHUB_APP_INTEGRATION_ID)`,
		`github.app.webhook_secret: missing; write the App's webhook secret (or set GITHUB_APP_WEBHOOK_SECRET)`,
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant first:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error spans lines: %q", err)
	}
}

// TestIntegrationIDWithANewline: a Secret's file often ends in a newline,
// which an environment variable taken from it keeps; go-githubapp alone
// would drop the id.
func TestIntegrationIDWithANewline(t *testing.T) {
	clearEnv(t)
	t.Setenv("GITHUB_APP_INTEGRATION_ID", "4242\n")
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", testSecret)
	t.Setenv("GITHUB_APP_PRIVATE_KEY", pkcs1PEM(t))
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.App.IntegrationID != 4242 {
		t.Errorf("integration id %d", c.GitHub.App.IntegrationID)
	}
}
