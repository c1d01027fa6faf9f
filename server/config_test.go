package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// minimalYAML is a valid file that sets only what has no default.
func minimalYAML(t *testing.T) string {
	return "github:\n  app:\n    integration_id: 4242\n    webhook_secret: " + testSecret + "\n    private_key: |\n" + indent(pkcs1PEM(t), "      ")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func TestLoadConfigDefaults(t *testing.T) {
	clearEnv(t)
	c, err := LoadConfig(writeFile(t, "config.yml", minimalYAML(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.GitHub.App.IntegrationID = 4242
	want.GitHub.App.WebhookSecret = testSecret
	want.GitHub.App.PrivateKey = pkcs1PEM(t)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded %+v\nwant   %+v", c, want)
	}
	if c.Server.Port != 8080 || c.Server.ShutdownTimeout != 30*time.Second || c.Rollback.ConfigFile != ".github/flux-rollback.yml" {
		t.Errorf("defaults: %+v %+v", c.Server, c.Rollback)
	}
	if c.GitHub.V3APIURL != "https://api.github.com/" || c.GitHub.WebURL != "https://github.com" {
		t.Errorf("GitHub URLs: %+v", c.GitHub.Config)
	}
	if !reflect.DeepEqual(c.Rollback.Defaults, repoconfig.DefaultConfig()) {
		t.Errorf("per-repository defaults %+v", c.Rollback.Defaults)
	}
	if c.Address() != "0.0.0.0:8080" {
		t.Errorf("address %s", c.Address())
	}
}

func TestLoadConfigFileOverridesDefaults(t *testing.T) {
	clearEnv(t)
	file := minimalYAML(t) + `
  v3_api_url: https://ghe.example.com/api/v3/
  v4_api_url: https://ghe.example.com/api/graphql
  web_url: https://ghe.example.com
server:
  port: 9000
  shutdown_timeout: 1m
rollback:
  event_timeout: 45s
  defaults:
    minimum_role: maintain
    pull_request:
      labels: [rollback]
`
	c, err := LoadConfig(writeFile(t, "config.yml", file))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Port != 9000 || c.Server.ShutdownTimeout != time.Minute || c.Server.Address != DefaultAddress {
		t.Errorf("server %+v", c.Server)
	}
	if c.GitHub.V3APIURL != "https://ghe.example.com/api/v3/" || c.GitHub.WebURL != "https://ghe.example.com" {
		t.Errorf("github %+v", c.GitHub.Config)
	}
	d := c.Rollback.Defaults
	if d.MinimumRole != "maintain" || !reflect.DeepEqual(d.PullRequest.Labels, []string{"rollback"}) || d.BranchPrefix != "rollback-" || !d.IsEnabled() {
		t.Errorf("repository defaults %+v", d)
	}
	if c.Rollback.EventTimeout != 45*time.Second || c.Rollback.MaxConcurrentEvents != DefaultMaxConcurrentEvents {
		t.Errorf("rollback %+v", c.Rollback)
	}
}

func TestLoadConfigUnknownKeyIsNamedWithItsLine(t *testing.T) {
	clearEnv(t)
	for name, tc := range map[string]struct{ yaml, key, line string }{
		"server":     {"server:\n  prot: 8080\n", "server.prot", "config.yml:2:"},
		"github.app": {"github:\n  app:\n    integration_id: 1\n    secret: x\n", "github.app.secret", "config.yml:4:"},
		"top level":  {"roll_back: {}\n", "roll_back", "config.yml:1:"},
		"defaults":   {"rollback:\n  defaults:\n    minimum_rol: write\n", "rollback.defaults.minimum_rol", "config.yml:3:"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, "config.yml", tc.yaml))
			if err == nil {
				t.Fatal("unknown key accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.line) || strings.Contains(msg, "\n") {
				t.Errorf("error %q should name %s and %s on one line", msg, tc.key, tc.line)
			}
		})
	}
}

func TestLoadConfigEnvironmentOverridesFile(t *testing.T) {
	clearEnv(t)
	path := writeFile(t, "config.yml", minimalYAML(t)+"server:\n  port: 9000\n")
	env := map[string]string{
		"GITHUB_APP_PRIVATE_KEY":             pkcs8PEM(t),
		"GITHUB_APP_INTEGRATION_ID":          "777",
		"GITHUB_APP_WEBHOOK_SECRET":          "secret-from-env",
		"GITHUB_V3_API_URL":                  "https://ghe.example.com/api/v3/",
		"GITHUB_V4_API_URL":                  "https://ghe.example.com/api/graphql",
		"GITHUB_WEB_URL":                     "https://ghe.example.com",
		EnvAddress:                           "127.0.0.1",
		EnvPort:                              "9100",
		EnvShutdownTimeout:                   "5s",
		EnvLogLevel:                          "debug",
		EnvRepoConfigFile:                    ".github/rollback.yaml",
		EnvDefaults:                          "{minimum_role: admin, allow_any_commit: true}",
		EnvMaxConcurrentEvents:               "3",
		EnvEventTimeout:                      "2m",
		EnvClientTimeout:                     "7s",
		EnvCacheSizeMB:                       "0",
		"FLUXROLLBACK_SOMETHING_NOT_DEFINED": "ignored",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Server.Address, want.Server.Port, want.Server.ShutdownTimeout, want.Server.LogLevel = "127.0.0.1", 9100, 5*time.Second, "debug"
	want.GitHub.App.IntegrationID = 777
	want.GitHub.App.WebhookSecret = "secret-from-env"
	want.GitHub.App.PrivateKey = pkcs8PEM(t)
	want.GitHub.V3APIURL = "https://ghe.example.com/api/v3/"
	want.GitHub.V4APIURL = "https://ghe.example.com/api/graphql"
	want.GitHub.WebURL = "https://ghe.example.com"
	want.Rollback.ConfigFile = ".github/rollback.yaml"
	want.Rollback.Defaults.MinimumRole = "admin"
	want.Rollback.Defaults.AllowAnyCommit = true
	want.Rollback.MaxConcurrentEvents = 3
	want.Rollback.EventTimeout = 2 * time.Minute
	want.Rollback.ClientTimeout = 7 * time.Second
	want.Rollback.CacheSizeMB = 0
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded %+v\nwant   %+v", c, want)
	}
}

func TestLoadConfigWithoutFileUsesTheEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("GITHUB_APP_INTEGRATION_ID", "12")
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", testSecret)
	t.Setenv("GITHUB_APP_PRIVATE_KEY", pkcs8PEM(t))
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.App.IntegrationID != 12 || c.Server.Port != DefaultPort {
		t.Errorf("%+v", c)
	}
}

func TestPrivateKeyFile(t *testing.T) {
	for name, key := range map[string]string{"PKCS#1": pkcs1PEM(t), "PKCS#8": pkcs8PEM(t)} {
		t.Run(name, func(t *testing.T) {
			keyFile := writeFile(t, "key.pem", key)
			base := "github:\n  app:\n    integration_id: 1\n    webhook_secret: s\n"

			t.Run("in the file", func(t *testing.T) {
				clearEnv(t)
				c, err := LoadConfig(writeFile(t, "config.yml", base+"  private_key_file: "+keyFile+"\n"))
				if err != nil {
					t.Fatal(err)
				}
				if c.GitHub.App.PrivateKey != key {
					t.Error("the key file was not read into github.app.private_key")
				}
			})
			t.Run("from the environment", func(t *testing.T) {
				clearEnv(t)
				t.Setenv(EnvPrivateKeyFile, keyFile)
				c, err := LoadConfig(writeFile(t, "config.yml", base))
				if err != nil {
					t.Fatal(err)
				}
				if c.GitHub.App.PrivateKey != key {
					t.Error("the key file was not read into github.app.private_key")
				}
			})
		})
	}
}

// TestStartupErrors covers every refusal: one line that names the problem
// and never a secret.
func TestStartupErrors(t *testing.T) {
	keyFile := writeFile(t, "key.pem", pkcs1PEM(t))
	ecDER, err := x509.MarshalPKCS8PrivateKey(mustECKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	good := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": "1",
		"GITHUB_APP_WEBHOOK_SECRET": testSecret,
		"GITHUB_APP_PRIVATE_KEY":    pkcs1PEM(t),
	}
	for name, tc := range map[string]struct {
		env  map[string]string // over good; "" unsets
		file string
		want string
	}{
		"missing webhook secret": {env: map[string]string{"GITHUB_APP_WEBHOOK_SECRET": ""}, want: "github.app.webhook_secret: missing"},
		"missing private key":    {env: map[string]string{"GITHUB_APP_PRIVATE_KEY": ""}, want: "github.app.private_key: missing"},
		"private key not PEM":    {env: map[string]string{"GITHUB_APP_PRIVATE_KEY": "MIIEpAIBAAKCAQEA" + testSecret}, want: "not a PEM-encoded RSA private key"},
		"private key not RSA":    {env: map[string]string{"GITHUB_APP_PRIVATE_KEY": ecPEM}, want: "not a PEM-encoded RSA private key"},
		"private key truncated":  {env: map[string]string{"GITHUB_APP_PRIVATE_KEY": pkcs1PEM(t)[:400] + "\n-----END RSA PRIVATE KEY-----\n"}, want: "not a PEM-encoded RSA private key"},
		"missing key file":       {env: map[string]string{"GITHUB_APP_PRIVATE_KEY": "", EnvPrivateKeyFile: "/nonexistent/key.pem"}, want: "github.private_key_file"},
		"key and key file":       {env: map[string]string{EnvPrivateKeyFile: keyFile}, want: "github.private_key_file: github.app.private_key is set too"},
		"missing app id":         {env: map[string]string{"GITHUB_APP_INTEGRATION_ID": ""}, want: "github.app.integration_id: missing"},
		"app id not a number":    {env: map[string]string{"GITHUB_APP_INTEGRATION_ID": "12a"}, want: `GITHUB_APP_INTEGRATION_ID: "12a" is not a whole number`},
		"bad API URL":            {env: map[string]string{"GITHUB_V3_API_URL": "api.github.com"}, want: "github.v3_api_url"},
		"bad web URL":            {file: "github:\n  web_url: \"ftp://github.com\"\n", want: "github.web_url"},
		"URL without host":       {env: map[string]string{"GITHUB_V4_API_URL": "https:///graphql"}, want: "github.v4_api_url"},
		"port out of range":      {file: "server:\n  port: 70000\n", want: "config.yml:2: server.port: 70000 is not a TCP port"},
		"port zero":              {env: map[string]string{EnvPort: "0"}, want: EnvPort + ": server.port: 0 is not a TCP port"},
		"port not a number":      {env: map[string]string{EnvPort: "http"}, want: EnvPort + `: "http" is not a whole number`},
		"bad duration":           {env: map[string]string{EnvShutdownTimeout: "30"}, want: EnvShutdownTimeout + ": 30 is not a duration; write 30s"},
		"bad duration in file":   {file: "server:\n  shutdown_timeout: soon\n", want: `config.yml:2: server.shutdown_timeout: "soon" is not a duration`},
		"bad log level":          {env: map[string]string{EnvLogLevel: "loud"}, want: "server.log_level"},
		"no events allowed":      {env: map[string]string{EnvMaxConcurrentEvents: "0"}, want: "rollback.max_concurrent_events"},
		"bad repository default": {env: map[string]string{EnvDefaults: "{minimum_role: read}"}, want: "rollback.defaults.minimum_role"},
		"unknown default key":    {env: map[string]string{EnvDefaults: "{minimum_rol: write}"}, want: EnvDefaults + ":1: minimum_rol: unknown key; did you mean minimum_role?"},
		"unreadable file":        {file: "\tnot yaml: [", want: "config.yml: not valid YAML: found character that cannot start any token"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range good {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
				if v == "" {
					os.Unsetenv(k)
				}
			}
			path := ""
			if tc.file != "" {
				path = writeFile(t, "config.yml", tc.file)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if strings.Contains(msg, testSecret) || strings.Contains(msg, keyBody(t)) || strings.Contains(msg, "MIIE") {
				t.Errorf("error quotes a secret: %q", msg)
			}
		})
	}
}

func mustECKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestExampleConfig loads config.yml.example strictly: it must name every key
// of the configuration, no other, with the default values, and the
// environment variable of each of flux-rollback's keys.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../config.yml.example")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := decodeStrict(data, c, "config.yml.example"); err != nil {
		t.Fatalf("the example does not load strictly: %v", err)
	}
	// Compared as YAML, where an empty list and no list are the same.
	got, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want, err := yaml.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the example's values differ from the defaults:\n%s\nwant:\n%s", got, want)
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	collectKeys(doc.Content[0], "", documented)
	fields := map[string]bool{}
	collectFields(reflect.TypeOf(Config{}), "", fields)
	var missing []string
	for k := range fields {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the example does not document %v", missing)
	}

	for _, env := range []string{
		EnvAddress, EnvPort, EnvShutdownTimeout, EnvLogLevel, EnvPrivateKeyFile, EnvRepoConfigFile, EnvDefaults,
		EnvMaxConcurrentEvents, EnvEventTimeout, EnvClientTimeout, EnvCacheSizeMB,
		"GITHUB_WEB_URL", "GITHUB_V3_API_URL", "GITHUB_V4_API_URL",
		"GITHUB_APP_INTEGRATION_ID", "GITHUB_APP_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY",
	} {
		if !strings.Contains(string(data), env) {
			t.Errorf("the example does not mention %s", env)
		}
	}
	// Every variable that overrides a key (the table problems are located by).
	for env := range envKeys {
		if !strings.Contains(string(data), env) {
			t.Errorf("the example does not mention %s", env)
		}
	}
}

// collectKeys records the dotted path of every mapping key under n.
func collectKeys(n *yaml.Node, prefix string, out map[string]bool) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := prefix + n.Content[i].Value
		out[key] = true
		collectKeys(n.Content[i+1], key+".", out)
	}
}

// collectFields records the dotted YAML path of every field of t.
func collectFields(t reflect.Type, prefix string, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			collectFields(f.Type, prefix, out)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		out[prefix+name] = true
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			collectFields(f.Type, prefix+name+".", out)
		}
	}
}
