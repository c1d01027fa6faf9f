package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// Config is the whole server configuration. It is built in four steps, each in
// one place below: DefaultConfig, then the YAML file (strict), then the
// environment (applyEnv), then validate.
type Config struct {
	Server   ServerConfig   `yaml:"server"`
	GitHub   GitHubConfig   `yaml:"github"`
	Rollback RollbackConfig `yaml:"rollback"`
	// Redelivery is the sweeper that asks GitHub to redeliver failed
	// deliveries.
	Redelivery RedeliveryConfig `yaml:"redelivery"`
}

// ServerConfig is the HTTP listener and process behaviour.
type ServerConfig struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	// ShutdownTimeout bounds how long in-flight events may run after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogLevel is a zerolog level name: debug, info, warn, error.
	LogLevel string `yaml:"log_level"`
	// ShutdownDelay is how long the listener keeps accepting after SIGTERM,
	// with readiness already answering 503, so that the load balancer stops
	// sending before the listener closes.
	ShutdownDelay time.Duration `yaml:"shutdown_delay"`
	// ReadTimeout bounds the reading of one request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// MaxUnauthenticatedMB bounds the webhook bytes being read before their
	// signature is checked, across all connections.
	MaxUnauthenticatedMB int `yaml:"max_unauthenticated_mb"`
	// MetricsAddress, when set (host:port), serves /metrics on a listener
	// of its own instead of next to the webhook route, so that exposing the
	// webhook does not expose the metrics.
	MetricsAddress string `yaml:"metrics_address"`
}

// RedeliveryConfig is the redelivery sweeper's.
type RedeliveryConfig struct {
	// Interval between sweeps; the first runs at start. 0 turns the
	// sweeper off.
	Interval time.Duration `yaml:"interval"`
	// MaxAge is how far back the first sweep looks.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxPerSweep bounds the redeliveries one sweep asks for.
	MaxPerSweep int `yaml:"max_per_sweep"`
	// MaxAttempts bounds the redeliveries of one delivery.
	MaxAttempts int `yaml:"max_attempts"`
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
	// ClientTimeout bounds one attempt of a request to the GitHub API; the
	// retry policy makes further attempts within the event's timeout.
	ClientTimeout time.Duration `yaml:"client_timeout"`
	// ProgressDelay is how long a click on a check run's button runs before
	// the check run shows it in progress: a click that ends sooner reports
	// its outcome alone, sparing a request. 0 reports progress at once.
	ProgressDelay time.Duration `yaml:"progress_delay"`
	// CacheSizeMB bounds the in-memory HTTP cache of GitHub API responses.
	CacheSizeMB int `yaml:"cache_size_mb"`
	// QueueSize bounds the push events acknowledged and waiting to be
	// handled; a push over the bound is refused with 503.
	QueueSize int `yaml:"queue_size"`
	// QueueWorkers is how many queued events are handled at once.
	QueueWorkers int `yaml:"queue_workers"`
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
	DefaultProgressDelay       = time.Second
	DefaultCacheSizeMB         = 50
	DefaultShutdownDelay       = 5 * time.Second
	DefaultReadTimeout         = 20 * time.Second
	DefaultMaxUnauthenticated  = 64
	DefaultQueueSize           = 1000
	DefaultQueueWorkers        = 10
	DefaultRedeliveryInterval  = 3 * time.Minute
	DefaultRedeliveryMaxAge    = time.Hour
	DefaultRedeliveryPerSweep  = 200
	DefaultRedeliveryAttempts  = 3
)

// DefaultConfig returns the configuration used where neither the file nor the
// environment says otherwise.
func DefaultConfig() *Config {
	c := &Config{
		Server: ServerConfig{
			Address:              DefaultAddress,
			Port:                 DefaultPort,
			ShutdownTimeout:      DefaultShutdownTimeout,
			LogLevel:             DefaultLogLevel,
			ShutdownDelay:        DefaultShutdownDelay,
			ReadTimeout:          DefaultReadTimeout,
			MaxUnauthenticatedMB: DefaultMaxUnauthenticated,
		},
		Redelivery: RedeliveryConfig{
			Interval:    DefaultRedeliveryInterval,
			MaxAge:      DefaultRedeliveryMaxAge,
			MaxPerSweep: DefaultRedeliveryPerSweep,
			MaxAttempts: DefaultRedeliveryAttempts,
		},
		Rollback: RollbackConfig{
			ConfigFile:          repoconfig.DefaultPath,
			Defaults:            repoconfig.DefaultConfig(),
			MaxConcurrentEvents: DefaultMaxConcurrentEvents,
			EventTimeout:        DefaultEventTimeout,
			ClientTimeout:       DefaultClientTimeout,
			ProgressDelay:       DefaultProgressDelay,
			CacheSizeMB:         DefaultCacheSizeMB,
			QueueSize:           DefaultQueueSize,
			QueueWorkers:        DefaultQueueWorkers,
		},
	}
	c.GitHub.WebURL = DefaultWebURL
	c.GitHub.V3APIURL = DefaultV3APIURL
	c.GitHub.V4APIURL = DefaultV4APIURL
	return c
}

// LoadConfig builds the configuration: defaults, then the YAML file at path
// (skipped when path is empty), then the environment, then validation. Every
// problem of the three steps is reported at once, as ConfigProblems: key path,
// line and the form expected, on one line; secret values are never quoted.
func LoadConfig(path string) (*Config, error) {
	c := DefaultConfig()
	var problems ConfigProblems
	var lines map[string]int
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		var decodeErr error
		lines, decodeErr = decodeLocated(data, c, path)
		problems = append(problems, asProblems(decodeErr)...)
	}
	problems = append(problems, c.applyEnv()...)
	for _, p := range c.validate() {
		// Point at where the wrong value was set: the variable that
		// overrode the file, or the file's line.
		if env := envOfKey(p.Key); env != "" {
			p.Source = env
		} else if line, ok := lines[p.Key]; ok {
			p.Source, p.Line = path, line
		}
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// asProblems returns the problems of err, which is nil or ConfigProblems.
func asProblems(err error) ConfigProblems {
	var ps ConfigProblems
	if errors.As(err, &ps) {
		return ps
	}
	if err != nil {
		return ConfigProblems{{Message: err.Error()}}
	}
	return nil
}

// Environment variables of flux-rollback's own keys. go-githubapp's keys are
// read by githubapp.Config.SetValuesFromEnv under the names it chooses
// (GITHUB_WEB_URL, GITHUB_V3_API_URL, GITHUB_APP_INTEGRATION_ID, ...).
const (
	EnvAddress              = "FLUXROLLBACK_ADDRESS"
	EnvPort                 = "FLUXROLLBACK_PORT"
	EnvShutdownTimeout      = "FLUXROLLBACK_SHUTDOWN_TIMEOUT"
	EnvLogLevel             = "FLUXROLLBACK_LOG_LEVEL"
	EnvPrivateKeyFile       = "FLUXROLLBACK_PRIVATE_KEY_FILE"
	EnvRepoConfigFile       = "FLUXROLLBACK_CONFIG_FILE"
	EnvDefaults             = "FLUXROLLBACK_DEFAULTS"
	EnvMaxConcurrentEvents  = "FLUXROLLBACK_MAX_CONCURRENT_EVENTS"
	EnvEventTimeout         = "FLUXROLLBACK_EVENT_TIMEOUT"
	EnvClientTimeout        = "FLUXROLLBACK_CLIENT_TIMEOUT"
	EnvProgressDelay        = "FLUXROLLBACK_PROGRESS_DELAY"
	EnvCacheSizeMB          = "FLUXROLLBACK_CACHE_SIZE_MB"
	EnvShutdownDelay        = "FLUXROLLBACK_SHUTDOWN_DELAY"
	EnvMetricsAddress       = "FLUXROLLBACK_METRICS_ADDRESS"
	EnvReadTimeout          = "FLUXROLLBACK_READ_TIMEOUT"
	EnvMaxUnauthenticatedMB = "FLUXROLLBACK_MAX_UNAUTHENTICATED_MB"
	EnvQueueSize            = "FLUXROLLBACK_QUEUE_SIZE"
	EnvQueueWorkers         = "FLUXROLLBACK_QUEUE_WORKERS"
	EnvRedeliveryInterval   = "FLUXROLLBACK_REDELIVERY_INTERVAL"
	EnvRedeliveryMaxAge     = "FLUXROLLBACK_REDELIVERY_MAX_AGE"
	EnvRedeliveryPerSweep   = "FLUXROLLBACK_REDELIVERY_MAX_PER_SWEEP"
	EnvRedeliveryAttempts   = "FLUXROLLBACK_REDELIVERY_MAX_ATTEMPTS"

	envIntegrationID = "GITHUB_APP_INTEGRATION_ID"
)

// envOfKey is the environment variable that is set and overrides key, or "".
func envOfKey(key string) string {
	for env, k := range envKeys {
		if k == key {
			if _, ok := os.LookupEnv(env); ok {
				return env
			}
		}
	}
	return ""
}

// envKeys maps the environment variables to the keys they override.
var envKeys = map[string]string{
	EnvAddress:                  "server.address",
	EnvPort:                     "server.port",
	EnvShutdownTimeout:          "server.shutdown_timeout",
	EnvLogLevel:                 "server.log_level",
	EnvPrivateKeyFile:           "github.private_key_file",
	EnvRepoConfigFile:           "rollback.config_file",
	EnvMaxConcurrentEvents:      "rollback.max_concurrent_events",
	EnvEventTimeout:             "rollback.event_timeout",
	EnvClientTimeout:            "rollback.client_timeout",
	EnvProgressDelay:            "rollback.progress_delay",
	EnvCacheSizeMB:              "rollback.cache_size_mb",
	EnvShutdownDelay:            "server.shutdown_delay",
	EnvMetricsAddress:           "server.metrics_address",
	EnvReadTimeout:              "server.read_timeout",
	EnvMaxUnauthenticatedMB:     "server.max_unauthenticated_mb",
	EnvQueueSize:                "rollback.queue_size",
	EnvQueueWorkers:             "rollback.queue_workers",
	EnvRedeliveryInterval:       "redelivery.interval",
	EnvRedeliveryMaxAge:         "redelivery.max_age",
	EnvRedeliveryPerSweep:       "redelivery.max_per_sweep",
	EnvRedeliveryAttempts:       "redelivery.max_attempts",
	"GITHUB_WEB_URL":            "github.web_url",
	"GITHUB_V3_API_URL":         "github.v3_api_url",
	"GITHUB_V4_API_URL":         "github.v4_api_url",
	envIntegrationID:            "github.app.integration_id",
	"GITHUB_APP_WEBHOOK_SECRET": "github.app.webhook_secret",
	"GITHUB_APP_PRIVATE_KEY":    "github.app.private_key",
}

// applyEnv overrides the configuration with the environment and returns
// the variables whose values are malformed.
func (c *Config) applyEnv() ConfigProblems {
	var problems ConfigProblems
	note := func(key string, err error) {
		if err != nil {
			problems = append(problems, ConfigProblem{Key: key, Message: err.Error()})
		}
	}
	// go-githubapp silently ignores an integration id that is not a number;
	// refuse it instead so that a typo is not mistaken for a missing id.
	if v, ok := os.LookupEnv(envIntegrationID); ok {
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			note(envIntegrationID, fmt.Errorf("%q is not a whole number", v))
		}
	}
	c.GitHub.SetValuesFromEnv("")
	if v, ok := os.LookupEnv(envIntegrationID); ok {
		// go-githubapp does not trim: a value read from a file (a mounted
		// Secret) often ends in a newline.
		if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			c.GitHub.App.IntegrationID = id
		}
	}

	envString(EnvAddress, &c.Server.Address)
	note(EnvPort, envInt(EnvPort, &c.Server.Port))
	note(EnvShutdownTimeout, envDuration(EnvShutdownTimeout, &c.Server.ShutdownTimeout))
	envString(EnvLogLevel, &c.Server.LogLevel)
	envString(EnvPrivateKeyFile, &c.GitHub.PrivateKeyFile)
	envString(EnvRepoConfigFile, &c.Rollback.ConfigFile)
	if v, ok := os.LookupEnv(EnvDefaults); ok {
		// A YAML (or JSON) document decoded over the file's defaults: the
		// keys it names replace those of the file, the others stay.
		for _, p := range asProblems(decodeStrict([]byte(v), &c.Rollback.Defaults, EnvDefaults)) {
			problems = append(problems, p)
		}
	}
	note(EnvMaxConcurrentEvents, envInt(EnvMaxConcurrentEvents, &c.Rollback.MaxConcurrentEvents))
	note(EnvEventTimeout, envDuration(EnvEventTimeout, &c.Rollback.EventTimeout))
	note(EnvClientTimeout, envDuration(EnvClientTimeout, &c.Rollback.ClientTimeout))
	note(EnvProgressDelay, envDuration(EnvProgressDelay, &c.Rollback.ProgressDelay))
	note(EnvCacheSizeMB, envInt(EnvCacheSizeMB, &c.Rollback.CacheSizeMB))
	note(EnvShutdownDelay, envDuration(EnvShutdownDelay, &c.Server.ShutdownDelay))
	envString(EnvMetricsAddress, &c.Server.MetricsAddress)
	note(EnvReadTimeout, envDuration(EnvReadTimeout, &c.Server.ReadTimeout))
	note(EnvMaxUnauthenticatedMB, envInt(EnvMaxUnauthenticatedMB, &c.Server.MaxUnauthenticatedMB))
	note(EnvQueueSize, envInt(EnvQueueSize, &c.Rollback.QueueSize))
	note(EnvQueueWorkers, envInt(EnvQueueWorkers, &c.Rollback.QueueWorkers))
	note(EnvRedeliveryInterval, envDuration(EnvRedeliveryInterval, &c.Redelivery.Interval))
	note(EnvRedeliveryMaxAge, envDuration(EnvRedeliveryMaxAge, &c.Redelivery.MaxAge))
	note(EnvRedeliveryPerSweep, envInt(EnvRedeliveryPerSweep, &c.Redelivery.MaxPerSweep))
	note(EnvRedeliveryAttempts, envInt(EnvRedeliveryAttempts, &c.Redelivery.MaxAttempts))
	return problems
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
		return fmt.Errorf("%q is not a whole number", v)
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
		if _, numErr := strconv.ParseFloat(strings.TrimSpace(v), 64); numErr == nil {
			return fmt.Errorf("%s is not a duration; write %ss", strings.TrimSpace(v), strings.TrimSpace(v))
		}
		return fmt.Errorf("%q is not a duration; write it like 30s, 2m or 1h30m", v)
	}
	*dst = d
	return nil
}

// validate checks the configuration and reads the private key file. Every
// problem is reported; secret values are never quoted.
func (c *Config) validate() ConfigProblems {
	var problems ConfigProblems
	problem := func(key, format string, args ...any) {
		problems = append(problems, ConfigProblem{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	if c.Server.Port < 1 || c.Server.Port > 65535 {
		problem("server.port", "%d is not a TCP port; write 1-65535", c.Server.Port)
	}
	if c.Server.ShutdownTimeout <= 0 {
		problem("server.shutdown_timeout", "must be positive, like 30s")
	}
	if _, err := zerolog.ParseLevel(c.Server.LogLevel); err != nil || c.Server.LogLevel == "" {
		problem("server.log_level", "%q is not a level; write trace, debug, info, warn or error", c.Server.LogLevel)
	}

	for _, u := range []struct{ key, value string }{
		{"github.web_url", c.GitHub.WebURL},
		{"github.v3_api_url", c.GitHub.V3APIURL},
		{"github.v4_api_url", c.GitHub.V4APIURL},
	} {
		if err := checkURL(u.value); err != nil {
			problem(u.key, "%v", err)
		}
	}

	if c.GitHub.App.IntegrationID <= 0 {
		problem("github.app.integration_id", "missing; write the App ID (or set GITHUB_APP_INTEGRATION_ID)")
	}
	if c.GitHub.App.WebhookSecret == "" {
		problem("github.app.webhook_secret", "missing; write the App's webhook secret (or set GITHUB_APP_WEBHOOK_SECRET)")
	}
	if key, err := c.loadPrivateKey(); err != nil {
		problem(key, "%v", err)
	}

	if c.Rollback.ConfigFile == "" {
		problem("rollback.config_file", "must not be empty; the default is %s", repoconfig.DefaultPath)
	}
	if err := c.Rollback.Defaults.Validate(); err != nil {
		var ps repoconfig.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				problem(joinPath("rollback.defaults", p.Key), "%s", p.Message)
			}
		} else {
			problem("rollback.defaults", "%s", strings.Join(strings.Fields(err.Error()), " "))
		}
	}
	if c.Rollback.MaxConcurrentEvents < 1 {
		problem("rollback.max_concurrent_events", "must be at least 1")
	}
	if c.Rollback.EventTimeout <= 0 {
		problem("rollback.event_timeout", "must be positive, like 30s")
	}
	if c.Rollback.ClientTimeout <= 0 {
		problem("rollback.client_timeout", "must be positive, like 10s")
	}
	if c.Rollback.ProgressDelay < 0 {
		problem("rollback.progress_delay", "must not be negative; 0 shows progress at once")
	}
	if c.Rollback.CacheSizeMB < 0 {
		problem("rollback.cache_size_mb", "must not be negative; 0 turns caching off")
	}
	if a := c.Server.MetricsAddress; a != "" {
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 1 || n > 65535:
			problem("server.metrics_address", "%q is not host:port; write it like 127.0.0.1:9090 or :9090", a)
		case n == c.Server.Port && (host == "" || host == c.Server.Address || c.Server.Address == "0.0.0.0" || host == "0.0.0.0"):
			problem("server.metrics_address", "%q is the webhook listener's port; choose another", a)
		}
	}
	if c.Server.ShutdownDelay < 0 {
		problem("server.shutdown_delay", "must not be negative, like 5s")
	}
	if c.Server.ReadTimeout <= 0 {
		problem("server.read_timeout", "must be positive, like 20s")
	}
	if c.Server.MaxUnauthenticatedMB < 26 {
		problem("server.max_unauthenticated_mb", "must be at least 26, so that one payload of GitHub's 25 MB fits")
	}
	if c.Rollback.QueueSize < 0 {
		problem("rollback.queue_size", "must not be negative; 0 handles pushes while GitHub waits")
	}
	if c.Rollback.QueueWorkers < 1 {
		problem("rollback.queue_workers", "must be at least 1")
	}
	if c.Redelivery.Interval < 0 {
		problem("redelivery.interval", "must not be negative; 0 turns the sweeper off")
	}
	if c.Redelivery.MaxAge <= 0 {
		problem("redelivery.max_age", "must be positive, like 1h")
	}
	if c.Redelivery.MaxPerSweep < 1 {
		problem("redelivery.max_per_sweep", "must be at least 1")
	}
	if c.Redelivery.MaxAttempts < 1 {
		problem("redelivery.max_attempts", "must be at least 1")
	}
	return problems
}

// loadPrivateKey reads the key file if one is named and checks that the key
// is an RSA key in PEM, PKCS#1 or PKCS#8, as GitHub issues them. It parses with
// the same library the installation transport signs with, so a key that passes
// here is one the app can use. On error, key is the option to fix.
func (c *Config) loadPrivateKey() (key string, err error) {
	app := &c.GitHub.App
	if c.GitHub.PrivateKeyFile != "" {
		if app.PrivateKey != "" {
			return "github.private_key_file", errors.New("github.app.private_key is set too; set only one")
		}
		data, err := os.ReadFile(c.GitHub.PrivateKeyFile)
		if err != nil {
			return "github.private_key_file", err
		}
		app.PrivateKey = string(data)
	}
	if strings.TrimSpace(app.PrivateKey) == "" {
		return "github.app.private_key", errors.New("missing; set github.private_key_file or FLUXROLLBACK_PRIVATE_KEY_FILE to the key's file (or put the PEM in GITHUB_APP_PRIVATE_KEY)")
	}
	if _, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(app.PrivateKey)); err != nil {
		// The parser's messages never quote the key.
		return "github.app.private_key", fmt.Errorf("not a PEM-encoded RSA private key (PKCS#1 or PKCS#8): %v", err)
	}
	return "", nil
}

// checkURL names the problem with an API or web URL; the URL is quoted only
// with any user:password part redacted.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL; write it like https://github.example.com")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL; write it like https://%s", u.Redacted(), strings.TrimPrefix(u.Redacted(), u.Scheme+"://"))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host; write it like https://github.example.com", u.Redacted())
	}
	return nil
}

// Address is the host:port the server listens on.
func (c *Config) Address() string {
	return net.JoinHostPort(c.Server.Address, strconv.Itoa(c.Server.Port))
}
