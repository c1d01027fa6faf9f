package handlers

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-github/v57/github"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/internal/markdown"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/report"
)

// Log keys added by the handlers, next to go-githubapp's own.
const (
	LogKeySHA    = "sha"
	LogKeyUser   = "user"
	LogKeyAction = "action"
)

// ConfigCheckRunName names the check run that reports a broken
// configuration file on a push.
const ConfigCheckRunName = "Rollback configuration"

// defaultConcurrency bounds the GitHub requests one event makes at once.
const defaultConcurrency = 4

func (b *Base) concurrency() int {
	if b.Concurrency > 0 {
		return b.Concurrency
	}
	return defaultConcurrency
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

// brokenConfigText tells which file is wrong and why.
func brokenConfigText(c *repoConfig) string {
	return fmt.Sprintf("flux-rollback does nothing in this repository until its configuration is fixed.\n\n%s: %s\n",
		markdown.Code(c.Source), markdown.Escape(c.problem.Error()))
}

// reportBrokenConfig puts a check run on the pushed commit that names the
// broken file, so the problem is visible where the push shows.
func (b *Base) reportBrokenConfig(ctx context.Context, repo *githubapi.Repo, sha string, c *repoConfig) error {
	zerolog.Ctx(ctx).Warn().Str("source", c.Source).Err(c.problem).Msg("repository configuration is broken")
	// A redelivered push or a re-run must not show the problem twice.
	shown, err := repo.FindCheckRun(ctx, b.AppID, sha, ConfigCheckRunName)
	if err != nil || shown != 0 {
		return err
	}
	_, err = repo.CreateCheckRun(ctx, sha, githubapi.CheckRunOutput{
		Name:       ConfigCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      "The flux-rollback configuration is invalid",
		Summary:    brokenConfigText(c),
	})
	return err
}

// reportRelease words the check run of a release.
func reportRelease(rel *release.Release, branch string) githubapi.CheckRunOutput {
	return report.Release(rel, branch)
}
