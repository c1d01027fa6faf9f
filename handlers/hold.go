package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v57/github"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/command"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/internal/logkey"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// newService is the one place a rollback.Service is built: every port is
// the repository's adapter.
func newService(repo *githubapi.Repo) *rollback.Service {
	return &rollback.Service{Repo: repo, Permissions: repo, Writer: repo, Pulls: repo, History: repo, Files: repo, Holds: repo}
}

// markHolds puts the hold check run on the last pushed commit that brought
// held image references or changed held lines (the merge of a rollback
// pull request, or a person's edit), saying what is held there and that the
// hold is still in place. A redelivered push finds the check run and adds
// none.
func markHolds(ctx context.Context, base *Base, repo *githubapi.Repo, commits []*rollback.Commit, branch string) error {
	svc := newService(repo)
	for i := len(commits) - 1; i >= 0; i-- {
		c := commits[i]
		if c == nil {
			continue
		}
		states, err := svc.HoldsOf(ctx, c, c.SHA)
		if err != nil {
			return fmt.Errorf("read the holds of %s: %w", c.SHA[:7], err)
		}
		if len(states) == 0 {
			continue
		}
		logger := zerolog.Ctx(ctx).With().Str(logkey.SHA, c.SHA).Logger()
		existing, err := repo.FindCheckRun(ctx, base.AppID, c.SHA, report.HoldCheckRunName)
		if err != nil {
			return err
		}
		if existing != 0 {
			logger.Debug().Int64(logkey.CheckRunID, existing).Msg("the holds already have a check run")
			return nil
		}
		if _, err := repo.CreateCheckRun(ctx, c.SHA, report.Held(states, branch)); err != nil {
			return err
		}
		logger.Info().Int(logkey.Holds, len(states)).Msg("holds marked")
		return nil
	}
	return nil
}

// resume answers a click on Resume automation: a pull request that puts
// back the markers held by the check run's commit.
func (h *CheckRun) resume(ctx context.Context, event github.CheckRunEvent) error {
	ctx, c, err := h.newClick(ctx, event)
	if err != nil {
		return err
	}
	words := clickWords{
		what:         "resume",
		inProgress:   report.ResumeInProgress(c.requester),
		brokenConfig: report.ResumeRefusedBrokenConfig,
		refused:      report.ResumeRefused,
		failed:       report.ResumeFailed,
	}
	return h.runClick(ctx, c, words, func(ctx context.Context, cfg *repoConfig, branch string) (report.CheckRun, error) {
		commit, err := c.repo.Commit(ctx, c.sha)
		if err != nil {
			return report.CheckRun{}, err
		}
		out, err := newService(c.repo).Resume(ctx, rollback.ResumeRequest{Branch: branch, Requester: c.requester, Config: cfg.Config, Commit: commit})
		if err != nil {
			return report.CheckRun{}, err
		}
		zerolog.Ctx(ctx).Info().Int(logkey.PullRequest, out.PullRequest.Number).Bool(logkey.Existing, out.Existing).Msg("resume pull request ready")
		return report.ResumeDone(out, c.requester), nil
	})
}

// answerHold carries out /rollback status and /rollback resume.
func answerHold(ctx context.Context, svc *rollback.Service, cfg *repoConfig, cmd command.Command, branch, requester string) (string, error) {
	if cmd.Kind == command.Status || (cmd.Image == "" && cmd.Policy == "") {
		states, err := svc.Held(ctx, branch)
		if err != nil {
			return "", err
		}
		if cmd.Kind == command.Resume {
			return report.ResumeWhichReply(states, branch), nil
		}
		return report.StatusReply(states, branch), nil
	}
	out, err := svc.Resume(ctx, rollback.ResumeRequest{
		Branch: branch, Requester: requester, Config: cfg.Config, Image: cmd.Image, Policy: cmd.Policy,
	})
	if err != nil {
		return refusalReply(ctx, "resume", err)
	}
	return report.ResumeText(out, requester), nil
}
