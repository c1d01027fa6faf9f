package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/fluxrollback/flux-rollback/server"
)

// defaultConfigPath is read by serve and check-config when --config is not
// given and the file exists: where the container image and the Kubernetes
// base mount the configuration. Without it, the defaults and the environment
// are the whole configuration.
var defaultConfigPath = "/etc/flux-rollback/config.yml"

var serveCmd = command{
	name:     "serve",
	synopsis: "[--config FILE]",
	about: `Run the GitHub App: receive webhooks on server.address:server.port and act on them
until SIGTERM or SIGINT. The configuration is the built-in defaults, then FILE
(default ` + defaultConfigPath + ` when it exists), then the FLUXROLLBACK_* and
GITHUB_* environment variables; see docs/operations.md.`,
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := serveCmd.flags()
	configPath := flags.String("config", "", "the YAML configuration `FILE` (default "+defaultConfigPath+" if it exists, else only the environment)")
	if err := serveCmd.parse(flags, args, stdout); err != nil {
		return err
	}
	cfg, err := server.LoadConfig(configFile(*configPath))
	if err != nil {
		return err
	}
	s, err := server.New(cfg,
		server.WithVersion(buildVersion()),
		server.WithLogger(server.NewLogger(stderr, cfg.Server.LogLevel)),
	)
	if err != nil {
		return err
	}
	return s.ListenAndServe(ctx)
}

// configFile is the configuration file to read: the one named, else the
// default path when a file is there, else none.
func configFile(named string) string {
	if named != "" {
		return named
	}
	if _, err := os.Stat(defaultConfigPath); err == nil || !errors.Is(err, fs.ErrNotExist) {
		// A file that exists but cannot be read is reported by LoadConfig.
		return defaultConfigPath
	}
	return ""
}
