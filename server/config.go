package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// Config is the whole server configuration. It is built in four steps, each in
// one place below: DefaultConfig, then the YAML file (strict), then the
// environment (applyEnv), then validate.
type Config struct {
	Server   ServerConfig   `yaml:"server"`
	GitHub   GitHubConfig   `yaml:"github"`
	Rollback RollbackConfig `yaml:"rollback"`
}

// ServerConfig is the HTTP listener and process behaviour.
type ServerConfig struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	// ShutdownTimeout bounds how long in-flight events may run after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogLevel is a zerolog level name: debug, info, warn, error.
	LogLevel string `yaml:"log_level"`
}

// GitHubConfig is go-githubapp's configuration plus a file alternative for the
// private key. The key file sits next to go-githubapp's keys rather than inside
// its app block because that block is go-githubapp's fixed struct.
type GitHubConfig struct {
	githubapp.Config `yaml:",inline"`
	// PrivateKeyFile is read into App.PrivateKey at load time, so that the
	// key can be mounted as a file (a Kubernetes secret volume) instead of
	// being written into the config file or the environment.
	PrivateKeyFile string `yaml:"private_key_file"`
}

// RollbackConfig holds flux-rollback's own options.
type RollbackConfig struct {
	// ConfigFile is the path of the per-repository config file.
	ConfigFile string `yaml:"config_file"`
	// Defaults are the server-wide defaults of the per-repository options,
	// used under the organisation's and the repository's files.
	Defaults repoconfig.Config `yaml:"defaults"`
	// MaxConcurrentEvents bounds the events handled at once; deliveries over
	// the bound are refused with 503 so that GitHub records them as failed.
	MaxConcurrentEvents int `yaml:"max_concurrent_events"`
	// EventTimeout bounds the handling of one event.
	EventTimeout time.Duration `yaml:"event_timeout"`
	// ClientTimeout bounds one request to the GitHub API.
	ClientTimeout time.Duration `yaml:"client_timeout"`
	// CacheSizeMB bounds the in-memory HTTP cache of GitHub API responses.
	CacheSizeMB int `yaml:"cache_size_mb"`
}

// Defaults of the configuration.
const (
	DefaultAddress             = "0.0.0.0"
	DefaultPort                = 8080
	DefaultShutdownTimeout     = 30 * time.Second
	DefaultLogLevel            = "info"
	DefaultWebURL              = "https://github.com"
	DefaultV3APIURL            = "https://api.github.com/"
	DefaultV4APIURL            = "https://api.github.com/graphql"
	DefaultMaxConcurrentEvents = 10
	DefaultEventTimeout        = 30 * time.Second
	DefaultClientTimeout       = 10 * time.Second
	DefaultCacheSizeMB         = 50
)

// DefaultConfig returns the configuration used where neither the file nor the
// environment says otherwise.
func DefaultConfig() *Config {
	c := &Config{
		Server: ServerConfig{
			Address:         DefaultAddress,
			Port:            DefaultPort,
			ShutdownTimeout: DefaultShutdownTimeout,
			LogLevel:        DefaultLogLevel,
		},
		Rollback: RollbackConfig{
			ConfigFile:          repoconfig.DefaultPath,
			Defaults:            repoconfig.DefaultConfig(),
			MaxConcurrentEvents: DefaultMaxConcurrentEvents,
			EventTimeout:        DefaultEventTimeout,
			ClientTimeout:       DefaultClientTimeout,
			CacheSizeMB:         DefaultCacheSizeMB,
		},
	}
	c.GitHub.WebURL = DefaultWebURL
	c.GitHub.V3APIURL = DefaultV3APIURL
	c.GitHub.V4APIURL = DefaultV4APIURL
	return c
}

// LoadConfig builds the configuration: defaults, then the YAML file at path
// (skipped when path is empty), then the environment, then validation. Errors
// are one line and never contain a secret value.
func LoadConfig(path string) (*Config, error) {
	c := DefaultConfig()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		if err := decodeStrict(data, c); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := c.applyEnv(); err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// decodeStrict decodes YAML onto c, keeping the values c already has for keys
// the document leaves out, and refusing keys that c has no field for.
func decodeStrict(data []byte, c any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return flattenYAMLError(err)
	}
	return nil
}

// flattenYAMLError puts yaml.v3's multi-line type errors ("line 3: field foo
// not found in type ...") on one line.
func flattenYAMLError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return errors.New(strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
}

// Environment variables of flux-rollback's own keys. go-githubapp's keys are
// read by githubapp.Config.SetValuesFromEnv under the names it chooses
// (GITHUB_WEB_URL, GITHUB_V3_API_URL, GITHUB_APP_INTEGRATION_ID, ...).
const (
	EnvAddress             = "FLUXROLLBACK_ADDRESS"
	EnvPort                = "FLUXROLLBACK_PORT"
	EnvShutdownTimeout     = "FLUXROLLBACK_SHUTDOWN_TIMEOUT"
	EnvLogLevel            = "FLUXROLLBACK_LOG_LEVEL"
	EnvPrivateKeyFile      = "FLUXROLLBACK_PRIVATE_KEY_FILE"
	EnvRepoConfigFile      = "FLUXROLLBACK_CONFIG_FILE"
	EnvDefaults            = "FLUXROLLBACK_DEFAULTS"
	EnvMaxConcurrentEvents = "FLUXROLLBACK_MAX_CONCURRENT_EVENTS"
	EnvEventTimeout        = "FLUXROLLBACK_EVENT_TIMEOUT"
	EnvClientTimeout       = "FLUXROLLBACK_CLIENT_TIMEOUT"
	EnvCacheSizeMB         = "FLUXROLLBACK_CACHE_SIZE_MB"

	envIntegrationID = "GITHUB_APP_INTEGRATION_ID"
)

// applyEnv overrides the configuration with the environment.
func (c *Config) applyEnv() error {
	// go-githubapp silently ignores an integration id that is not a number;
	// refuse it instead so that a typo is not mistaken for a missing id.
	if v, ok := os.LookupEnv(envIntegrationID); ok {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s is not an integer", envIntegrationID)
		}
	}
	c.GitHub.SetValuesFromEnv("")

	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	envString(EnvAddress, &c.Server.Address)
	note(envInt(EnvPort, &c.Server.Port))
	note(envDuration(EnvShutdownTimeout, &c.Server.ShutdownTimeout))
	envString(EnvLogLevel, &c.Server.LogLevel)
	envString(EnvPrivateKeyFile, &c.GitHub.PrivateKeyFile)
	envString(EnvRepoConfigFile, &c.Rollback.ConfigFile)
	if v, ok := os.LookupEnv(EnvDefaults); ok {
		// A YAML (or JSON) document decoded over the file's defaults: the
		// keys it names replace those of the file, the others stay.
		if err := decodeStrict([]byte(v), &c.Rollback.Defaults); err != nil {
			note(fmt.Errorf("%s: %w", EnvDefaults, err))
		}
	}
	note(envInt(EnvMaxConcurrentEvents, &c.Rollback.MaxConcurrentEvents))
	note(envDuration(EnvEventTimeout, &c.Rollback.EventTimeout))
	note(envDuration(EnvClientTimeout, &c.Rollback.ClientTimeout))
	note(envInt(EnvCacheSizeMB, &c.Rollback.CacheSizeMB))
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func envString(key string, dst *string) {
	if v, ok := os.LookupEnv(key); ok {
		*dst = v
	}
}

func envInt(key string, dst *int) error {
	v, ok := os.LookupEnv(key)
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("%s is not an integer", key)
	}
	*dst = n
	return nil
}

func envDuration(key string, dst *time.Duration) error {
	v, ok := os.LookupEnv(key)
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("%s is not a duration such as 30s", key)
	}
	*dst = d
	return nil
}

// validate checks the configuration and reads the private key file. Every
// problem is reported, on one line; secret values are never quoted.
func (c *Config) validate() error {
	var errs []string
	problem := func(format string, args ...any) {
		errs = append(errs, fmt.Sprintf(format, args...))
	}

	if c.Server.Port < 1 || c.Server.Port > 65535 {
		problem("server.port %d is not a TCP port (1-65535)", c.Server.Port)
	}
	if c.Server.ShutdownTimeout <= 0 {
		problem("server.shutdown_timeout must be positive")
	}
	if _, err := zerolog.ParseLevel(c.Server.LogLevel); err != nil || c.Server.LogLevel == "" {
		problem("server.log_level %q is not one of trace, debug, info, warn, error", c.Server.LogLevel)
	}

	for _, u := range []struct{ key, value string }{
		{"github.web_url", c.GitHub.WebURL},
		{"github.v3_api_url", c.GitHub.V3APIURL},
		{"github.v4_api_url", c.GitHub.V4APIURL},
	} {
		if err := checkURL(u.value); err != nil {
			problem("%s %v", u.key, err)
		}
	}

	if c.GitHub.App.IntegrationID <= 0 {
		problem("github.app.integration_id is missing (or set GITHUB_APP_INTEGRATION_ID)")
	}
	if c.GitHub.App.WebhookSecret == "" {
		problem("github.app.webhook_secret is missing (or set GITHUB_APP_WEBHOOK_SECRET)")
	}
	if err := c.loadPrivateKey(); err != nil {
		problem("%v", err)
	}

	if c.Rollback.ConfigFile == "" {
		problem("rollback.config_file must not be empty")
	}
	if err := c.Rollback.Defaults.Validate(); err != nil {
		problem("rollback.defaults: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	if c.Rollback.MaxConcurrentEvents < 1 {
		problem("rollback.max_concurrent_events must be at least 1")
	}
	if c.Rollback.EventTimeout <= 0 {
		problem("rollback.event_timeout must be positive")
	}
	if c.Rollback.ClientTimeout <= 0 {
		problem("rollback.client_timeout must be positive")
	}
	if c.Rollback.CacheSizeMB < 0 {
		problem("rollback.cache_size_mb must not be negative")
	}

	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// loadPrivateKey reads the key file if one is named and checks that the key
// is an RSA key in PEM, PKCS#1 or PKCS#8, as GitHub issues them. It parses with
// the same library the installation transport signs with, so a key that passes
// here is one the app can use.
func (c *Config) loadPrivateKey() error {
	app := &c.GitHub.App
	if c.GitHub.PrivateKeyFile != "" {
		if app.PrivateKey != "" {
			return errors.New("github.app.private_key and github.private_key_file are both set; set only one")
		}
		data, err := os.ReadFile(c.GitHub.PrivateKeyFile)
		if err != nil {
			return fmt.Errorf("github.private_key_file: %w", err)
		}
		app.PrivateKey = string(data)
	}
	if strings.TrimSpace(app.PrivateKey) == "" {
		return errors.New("github.app.private_key is missing (or set GITHUB_APP_PRIVATE_KEY or FLUXROLLBACK_PRIVATE_KEY_FILE)")
	}
	if _, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(app.PrivateKey)); err != nil {
		// The parser's messages never quote the key.
		return fmt.Errorf("github.app.private_key is not a PEM-encoded RSA private key (PKCS#1 or PKCS#8): %v", err)
	}
	return nil
}

// checkURL names the problem with an API or web URL; the URL is quoted only
// with any user:password part redacted.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with https:// or http://", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	return nil
}

// Address is the host:port the server listens on.
func (c *Config) Address() string {
	return net.JoinHostPort(c.Server.Address, strconv.Itoa(c.Server.Port))
}
