package handlers

import (
	"context"
	"fmt"
	"slices"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/report"
)

// defaultConcurrency bounds the GitHub requests one event makes at once.
const defaultConcurrency = 4

func (b *Base) concurrency() int {
	if b.Concurrency > 0 {
		return b.Concurrency
	}
	return defaultConcurrency
}

// repository makes the installation's client and the adapter of its
// repository owner/name.
func (b *Base) repository(installationID int64, owner, name string) (*github.Client, *githubapi.Repo, error) {
	client, err := b.NewInstallationClient(installationID)
	if err != nil {
		return nil, nil, fmt.Errorf("create installation client: %w", err)
	}
	return client, githubapi.NewRepo(client, owner, name), nil
}

// repoConfig is a repository's effective configuration, or why it is broken.
type repoConfig struct {
	repoconfig.Fetched
	detection release.Options
	// problem is the parse or validation error the user must fix.
	problem error
}

// loadConfig reads the repository's configuration at ref. Failing to read it
// is an error (the delivery fails and can be redelivered); a broken file is
// not: it is reported to the user by the caller.
func (b *Base) loadConfig(ctx context.Context, client *github.Client, owner, name, ref string) (*repoConfig, error) {
	fetched, err := b.Configs.Load(ctx, client, owner, name, ref)
	if err != nil {
		return nil, fmt.Errorf("load configuration of %s/%s: %w", owner, name, err)
	}
	if fetched.LoadError != nil {
		return nil, fmt.Errorf("load configuration of %s/%s: %w", owner, name, fetched.LoadError)
	}
	cfg := &repoConfig{Fetched: fetched, problem: fetched.ParseError}
	if cfg.problem == nil {
		cfg.detection, cfg.problem = release.NewOptions(fetched.Config.Detection)
	}
	return cfg, nil
}

func (c *repoConfig) broken() bool { return c.problem != nil }

func (c *repoConfig) enabled() bool { return c.Config.IsEnabled() }

// watches reports whether releases on branch get check runs.
func (c *repoConfig) watches(branch, defaultBranch string) bool {
	return branch == defaultBranch || slices.Contains(c.Config.Branches, branch)
}

// reportBrokenConfig puts a check run on the pushed commit that names the
// broken file, so the problem is visible where the push shows.
func (b *Base) reportBrokenConfig(ctx context.Context, repo *githubapi.Repo, sha string, c *repoConfig) error {
	zerolog.Ctx(ctx).Warn().Str(logkey.Source, c.Source).Err(c.problem).Msg("repository configuration is broken")
	// A redelivered push or a re-run must not show the problem twice.
	shown, err := repo.FindCheckRun(ctx, b.AppID, sha, report.ConfigCheckRunName)
	if err != nil || shown != 0 {
		return err
	}
	_, err = repo.CreateCheckRun(ctx, sha, report.BrokenConfig(c.Source, c.problem))
	return err
}
