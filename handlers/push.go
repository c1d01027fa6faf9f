package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/logkey"
	"github.com/fluxrollback/flux-rollback/internal/panics"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// Push puts a Rollback check run on every Flux release commit pushed to a
// watched branch.
type Push struct {
	*Base
}

var _ githubapp.EventHandler = (*Push)(nil)

// Handles lists the push event.
func (h *Push) Handles() []string { return []string{"push"} }

// Handle finds the release commits of a push and marks each with a check run.
func (h *Push) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.PushEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse push event: %w", err)
	}
	logger := zerolog.Ctx(ctx)

	branch, ok := strings.CutPrefix(event.GetRef(), "refs/heads/")
	switch {
	case !ok:
		logger.Debug().Str(logkey.Ref, event.GetRef()).Msg("ignoring push of a tag or other non-branch ref")
		return nil
	case event.GetDeleted() || event.GetAfter() == zeroSHA:
		logger.Debug().Str(logkey.Branch, branch).Msg("ignoring branch deletion")
		return nil
	}

	if len(event.Commits) >= maxPushCommits {
		logger.Warn().Int(logkey.Commits, len(event.Commits)).Str(logkey.Before, event.GetBefore()).Str(logkey.After, event.GetAfter()).
			Msg("the push lists GitHub's maximum of commits: any earlier commits of it are not examined")
	}

	// Only commits that touched YAML can be releases: a push of ordinary
	// code costs no GitHub request at all.
	candidates := yamlCommits(event.Commits)
	if len(candidates) == 0 {
		logger.Debug().Int(logkey.Commits, len(event.Commits)).Msg("no commit of the push changed YAML")
		return nil
	}

	owner, name := event.GetRepo().GetOwner().GetLogin(), event.GetRepo().GetName()
	if owner == "" {
		owner = event.GetRepo().GetOwner().GetName()
	}
	client, repo, err := h.repository(event.GetInstallation().GetID(), owner, name)
	if err != nil {
		return err
	}
	defaultBranch := event.GetRepo().GetDefaultBranch()

	cfg, err := h.loadConfig(ctx, client, owner, name, defaultBranch)
	if err != nil {
		return err
	}
	if cfg.broken() {
		return h.reportBrokenConfig(ctx, repo, event.GetAfter(), cfg)
	}
	if !cfg.enabled() {
		logger.Debug().Msg("flux-rollback is disabled for this repository")
		return nil
	}
	if !cfg.watches(branch, defaultBranch) {
		logger.Debug().Str(logkey.Branch, branch).Msg("ignoring push to a branch that is not watched")
		return nil
	}

	var relevant []string
	for _, c := range candidates {
		if slices.ContainsFunc(c.paths, cfg.detection.MightHoldImages) {
			relevant = append(relevant, c.sha)
		}
	}
	marked, commits, err := h.markReleases(ctx, repo, relevant, cfg.detection, branch)
	logger.Info().Int(logkey.Commits, len(event.Commits)).Int(logkey.Examined, len(relevant)).Int(logkey.Releases, marked).Msg("push handled")
	return errors.Join(err, markHolds(ctx, h.Base, repo, commits, branch))
}

// maxPushCommits is the most commits GitHub lists in a push webhook; a
// longer push lists its latest ones.
const maxPushCommits = 2048

// zeroSHA is the "after" of a deleted branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// yamlCommit is a pushed commit that changed at least one YAML file.
type yamlCommit struct {
	sha   string
	paths []string
}

// yamlCommits keeps the pushed commits that changed YAML, in push order.
func yamlCommits(commits []*github.HeadCommit) []yamlCommit {
	var out []yamlCommit
	for _, c := range commits {
		var paths []string
		for _, group := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, p := range group {
				if release.MightHoldImages(p) {
					paths = append(paths, p)
				}
			}
		}
		if len(paths) > 0 {
			out = append(out, yamlCommit{sha: c.GetID(), paths: paths})
		}
	}
	return out
}

// markReleases reads each commit's diff, and puts a check run on every
// release that has none yet. It returns how many releases it found, and the
// errors of the commits it could not finish.
//
// One commit's failure does not cancel the others: a check run whose
// creation was already sent may still be made by GitHub after the app
// stopped waiting, and the redelivery of the push would then find no check
// run yet and create a second one. Every request is finished before the
// delivery is answered.
//
// It also returns the commits it read, in push order (nil where reading
// one failed).
func (h *Push) markReleases(ctx context.Context, repo *githubapi.Repo, shas []string, detection release.Options, branch string) (int, []*rollback.Commit, error) {
	found := make([]bool, len(shas))
	commits := make([]*rollback.Commit, len(shas))
	errs := make([]error, len(shas))
	var g errgroup.Group
	g.SetLimit(h.concurrency())
	for i, sha := range shas {
		g.Go(func() error {
			defer panics.Recover(ctx, "mark release "+sha, &errs[i])
			found[i], commits[i], errs[i] = markRelease(ctx, h.Base, repo, sha, detection, branch, false)
			return nil
		})
	}
	_ = g.Wait() // the errors are in errs
	n := 0
	for _, f := range found {
		if f {
			n++
		}
	}
	return n, commits, errors.Join(errs...)
}

// markRelease puts the check run on sha when it is a release, and reports
// whether it is one, with the commit it read. With always, a new check run
// is created even if one exists, as GitHub's "Re-run" asks.
func markRelease(ctx context.Context, base *Base, repo *githubapi.Repo, sha string, detection release.Options, branch string, always bool) (bool, *rollback.Commit, error) {
	logger := zerolog.Ctx(ctx).With().Str(logkey.SHA, sha).Logger()
	commit, err := repo.Commit(ctx, sha)
	if err != nil {
		return false, nil, err
	}
	// Only a Flux commit whose diff is more than rewritten values makes
	// detection read the files themselves.
	rel, reason, err := release.AnalyzeReading(ctx, commit.Commit, detection, repo)
	if err != nil {
		return false, commit, err
	}
	if rel == nil {
		logger.Debug().Str(logkey.Reason, reason).Msg("not a release")
		return false, commit, nil
	}
	if !always {
		existing, err := repo.FindCheckRun(ctx, base.AppID, sha, report.CheckRunName)
		if err != nil {
			return true, commit, err
		}
		if existing != 0 {
			logger.Debug().Int64(logkey.CheckRunID, existing).Msg("release already has a check run")
			return true, commit, nil
		}
	}
	if _, err := repo.CreateCheckRun(ctx, sha, report.Release(rel, branch)); err != nil {
		return true, commit, err
	}
	logger.Info().Int(logkey.Images, len(rel.Changes)).Msg("release marked")
	return true, commit, nil
}
