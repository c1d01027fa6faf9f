package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fluxrollback/flux-rollback/internal/logkey"
	"github.com/fluxrollback/flux-rollback/internal/panics"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// CheckRun handles the Roll back and Restore buttons, "Re-run" of the
// Rollback check run, and the Resume automation button of the hold check
// run.
type CheckRun struct {
	*Base
}

var _ githubapp.EventHandler = (*CheckRun)(nil)

// Handles lists the check_run event.
func (h *CheckRun) Handles() []string { return []string{"check_run"} }

// Handle performs the requested action on the check run's commit.
func (h *CheckRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.CheckRunEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse check_run event: %w", err)
	}
	run := event.GetCheckRun()
	logger := zerolog.Ctx(ctx)
	if run.GetApp().GetID() != h.AppID || (run.GetName() != report.CheckRunName && run.GetName() != report.HoldCheckRunName) {
		logger.Debug().Str(logkey.CheckRun, run.GetName()).Msg("ignoring another check run")
		return nil
	}
	if run.GetName() == report.HoldCheckRunName {
		if event.GetAction() != "requested_action" || event.GetRequestedAction().Identifier != report.ActionResume {
			logger.Debug().Str(logkey.Action, event.GetAction()).Msg("ignoring a hold check run event other than Resume automation")
			return nil
		}
		return h.resume(ctx, event)
	}

	switch event.GetAction() {
	case "rerequested":
		return recheck(ctx, h.Base, event.GetInstallation().GetID(), event.GetRepo(), run.GetHeadSHA(), run.GetCheckSuite().GetHeadBranch())
	case "requested_action":
		identifier := event.GetRequestedAction().Identifier
		if identifier != report.ActionRollback && identifier != report.ActionRestore {
			logger.Warn().Str(logkey.Identifier, identifier).Msg("ignoring an unknown check run action")
			return nil
		}
		return h.act(ctx, event, identifier == report.ActionRestore)
	default:
		logger.Debug().Str(logkey.Action, event.GetAction()).Msg("ignoring check_run action")
		return nil
	}
}

// act rolls back the check run's commit and reports on the check run.
func (h *CheckRun) act(ctx context.Context, event github.CheckRunEvent, restore bool) error {
	run := event.GetCheckRun()
	requester := event.GetSender().GetLogin()
	sha := run.GetHeadSHA()
	ctx, logger := withKeys(ctx, sha, requester)

	client, err := h.NewInstallationClient(event.GetInstallation().GetID())
	if err != nil {
		return fmt.Errorf("create installation client: %w", err)
	}
	owner, name := event.GetRepo().GetOwner().GetLogin(), event.GetRepo().GetName()
	repo := githubapi.NewRepo(client, owner, name)
	defaultBranch := event.GetRepo().GetDefaultBranch()

	// Show progress where the user clicked before anything slow happens;
	// the configuration is read meanwhile.
	progress := panics.Go(ctx, "show progress", func() error {
		return repo.UpdateCheckRun(ctx, run.GetID(), report.InProgress(requester, restore))
	})
	cfg, err := h.loadConfig(ctx, client, owner, name, defaultBranch)
	if perr := <-progress; perr != nil {
		return perr
	}
	if err != nil {
		return h.failCheckRun(ctx, repo, run.GetID(), err)
	}
	if cfg.broken() {
		return repo.UpdateCheckRun(ctx, run.GetID(), report.RefusedBrokenConfig(cfg.Source, cfg.problem))
	}

	branch := defaultBranch
	if head := run.GetCheckSuite().GetHeadBranch(); head != "" && cfg.watches(head, defaultBranch) {
		branch = head
	}
	svc := newService(repo)
	req := rollback.Request{
		Commit: sha, Branch: branch, Requester: requester,
		Config: cfg.Config, Detection: cfg.detection, RequireRelease: !cfg.Config.AllowAnyCommit,
	}
	var out *rollback.Outcome
	if restore {
		out, err = svc.Restore(ctx, req)
	} else {
		out, err = svc.Revert(ctx, req)
	}

	var refusal *rollback.Refusal
	switch {
	case errors.As(err, &refusal):
		logger.Info().Str(logkey.Reason, string(refusal.Reason)).Msg("rollback refused")
		return repo.UpdateCheckRun(ctx, run.GetID(), report.Refused(refusal))
	case err != nil:
		return h.failCheckRun(ctx, repo, run.GetID(), err)
	}
	logger.Info().Int(logkey.PullRequest, out.PullRequest.Number).Bool(logkey.Existing, out.Existing).Msg("rollback pull request ready")
	return repo.UpdateCheckRun(ctx, run.GetID(), report.Done(out, requester))
}

// failCheckRun shows a failure on the check run and returns the error, so
// the delivery is recorded as failed and can be redelivered.
func (h *CheckRun) failCheckRun(ctx context.Context, repo *githubapi.Repo, id int64, cause error) error {
	if err := repo.UpdateCheckRun(ctx, id, report.Failed(cause)); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not report the failure on the check run")
	}
	return cause
}

// withKeys adds the commit and the requesting user to the log context.
func withKeys(ctx context.Context, sha, user string) (context.Context, zerolog.Logger) {
	lc := zerolog.Ctx(ctx).With().Str(logkey.SHA, sha)
	if user != "" {
		lc = lc.Str(logkey.User, user)
	}
	logger := lc.Logger()
	return logger.WithContext(ctx), logger
}
