package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// CheckSuite recreates the Rollback check run when someone re-runs all
// checks of a commit.
type CheckSuite struct {
	*Base
}

var _ githubapp.EventHandler = (*CheckSuite)(nil)

// Handles lists the check_suite event.
func (h *CheckSuite) Handles() []string { return []string{"check_suite"} }

// Handle recreates the check run of the suite's commit.
func (h *CheckSuite) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.CheckSuiteEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse check_suite event: %w", err)
	}
	logger := zerolog.Ctx(ctx)
	suite := event.GetCheckSuite()
	if event.GetAction() != "rerequested" || suite.GetApp().GetID() != h.AppID {
		logger.Debug().Str(logkey.Action, event.GetAction()).Msg("ignoring check_suite event")
		return nil
	}
	return recheck(ctx, h.Base, event.GetInstallation().GetID(), event.GetRepo(), suite.GetHeadSHA(), suite.GetHeadBranch())
}

// recheck examines sha again and creates a fresh check run on it when it is
// a release, worded for headBranch when that branch is watched (a release
// pushed to staging is rolled back on staging) and for the default branch
// otherwise.
func recheck(ctx context.Context, base *Base, installationID int64, r *github.Repository, sha, headBranch string) error {
	ctx, logger := withKeys(ctx, sha, "")
	owner, name, defaultBranch := r.GetOwner().GetLogin(), r.GetName(), r.GetDefaultBranch()
	client, repo, err := base.repository(installationID, owner, name)
	if err != nil {
		return err
	}
	cfg, err := base.loadConfig(ctx, client, owner, name, defaultBranch)
	if err != nil {
		return err
	}
	if cfg.broken() {
		return base.reportBrokenConfig(ctx, repo, sha, cfg)
	}
	if !cfg.enabled() {
		logger.Debug().Msg("flux-rollback is disabled for this repository")
		return nil
	}
	branch := defaultBranch
	if headBranch != "" && cfg.watches(headBranch, defaultBranch) {
		branch = headBranch
	}
	_, _, err = markRelease(ctx, base, repo, sha, cfg.detection, branch, true)
	return err
}
