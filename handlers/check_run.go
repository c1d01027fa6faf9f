package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
//
// What a click reads first does not depend on the repository's
// configuration: the requester's role, the commit and the branch head are
// read while the configuration is, all in one round trip. The reads start
// on the check suite's branch, which is the default branch for every
// release pushed there; a click on another branch that turns out not to be
// watched reads the default branch's head again.
func (h *CheckRun) act(ctx context.Context, event github.CheckRunEvent, restore bool) error {
	ctx, c, err := h.newClick(ctx, event)
	if err != nil {
		return err
	}
	svc, stopReads := newService(c.repo).Prefetch(ctx, c.requester, c.sha, c.suiteBranch)
	defer stopReads()
	words := clickWords{
		what:         "rollback",
		inProgress:   report.InProgress(c.requester, restore),
		brokenConfig: report.RefusedBrokenConfig,
		refused:      report.Refused,
		failed:       report.Failed,
	}
	return h.runClick(ctx, c, words, func(ctx context.Context, cfg *repoConfig, branch string) (report.CheckRun, error) {
		req := rollback.Request{
			Commit: c.sha, Branch: branch, Requester: c.requester,
			Config: cfg.Config, Detection: cfg.detection, RequireRelease: !cfg.Config.AllowAnyCommit,
		}
		var out *rollback.Outcome
		var err error
		if restore {
			out, err = svc.Restore(ctx, req)
		} else {
			out, err = svc.Revert(ctx, req)
		}
		if err != nil {
			return report.CheckRun{}, err
		}
		zerolog.Ctx(ctx).Info().Int(logkey.PullRequest, out.PullRequest.Number).Bool(logkey.Existing, out.Existing).Msg("rollback pull request ready")
		return report.Done(out, c.requester), nil
	})
}

// click is a press of a button on one of the App's check runs.
type click struct {
	runID          int64
	requester, sha string
	client         *github.Client
	repo           *githubapi.Repo
	// defaultBranch is the repository's; suiteBranch the check suite's,
	// or the default branch when the suite names none.
	defaultBranch, suiteBranch string
}

// newClick puts the commit and the requester on the log context and makes
// the installation's client.
func (h *CheckRun) newClick(ctx context.Context, event github.CheckRunEvent) (context.Context, *click, error) {
	run := event.GetCheckRun()
	c := &click{runID: run.GetID(), requester: event.GetSender().GetLogin(), sha: run.GetHeadSHA()}
	ctx, _ = withKeys(ctx, c.sha, c.requester)
	var err error
	c.client, c.repo, err = h.repository(event.GetInstallation().GetID(), event.GetRepo().GetOwner().GetLogin(), event.GetRepo().GetName())
	if err != nil {
		return ctx, nil, err
	}
	c.defaultBranch = event.GetRepo().GetDefaultBranch()
	c.suiteBranch = run.GetCheckSuite().GetHeadBranch()
	if c.suiteBranch == "" {
		c.suiteBranch = c.defaultBranch
	}
	return ctx, c, nil
}

// clickWords is how a button's check run tells each outcome of a click.
type clickWords struct {
	what         string // "rollback", "resume": for the logs
	inProgress   report.CheckRun
	brokenConfig func(source string, problem error) report.CheckRun
	refused      func(*rollback.Refusal) report.CheckRun
	failed       func(error) report.CheckRun
}

// runClick shows the click in progress once it has run for the progress
// delay, reads the repository's configuration, and does the button's work
// on the check suite's branch when the configuration watches it, else on
// the default branch. Whatever the outcome, the check run tells it; a
// failure is also returned, so that the delivery is recorded as failed and
// can be redelivered.
func (h *CheckRun) runClick(ctx context.Context, c *click, words clickWords, work func(ctx context.Context, cfg *repoConfig, branch string) (report.CheckRun, error)) error {
	progress := startProgress(ctx, h.ProgressDelay, func(ctx context.Context) error {
		return c.repo.UpdateCheckRun(ctx, c.runID, words.inProgress)
	})
	defer progress.stop()
	fail := func(cause error) error {
		progress.stop()
		if err := c.repo.UpdateCheckRun(ctx, c.runID, words.failed(cause)); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("could not report the failure on the check run")
		}
		return cause
	}

	cfg, err := h.loadConfig(ctx, c.client, c.repo.Owner(), c.repo.Name(), c.defaultBranch)
	if err != nil {
		return fail(err)
	}
	if cfg.broken() {
		progress.stop()
		return c.repo.UpdateCheckRun(ctx, c.runID, words.brokenConfig(cfg.Source, cfg.problem))
	}
	branch := c.defaultBranch
	if cfg.watches(c.suiteBranch, c.defaultBranch) {
		branch = c.suiteBranch
	}
	out, err := work(ctx, cfg, branch)
	var refusal *rollback.Refusal
	switch {
	case errors.As(err, &refusal):
		zerolog.Ctx(ctx).Info().Str(logkey.Reason, string(refusal.Reason)).Msg(words.what + " refused")
		out = words.refused(refusal)
	case err != nil:
		return fail(err)
	}
	progress.stop()
	return c.repo.UpdateCheckRun(ctx, c.runID, out)
}

// progressReport shows a click in progress on its check run once the click
// has run for a while: a click that ends sooner reports its outcome alone,
// which spares a request and shows the person one change instead of two.
type progressReport struct {
	timer   *time.Timer // nil when the report was sent at once
	done    chan struct{}
	stopped bool // stop is called by the click's own goroutine only
}

// startProgress sends update after delay (at once when delay is zero),
// unless stop comes first. A failed or panicking update is logged: the
// outcome that follows replaces it anyway.
func startProgress(ctx context.Context, delay time.Duration, update func(context.Context) error) *progressReport {
	p := &progressReport{done: make(chan struct{})}
	send := func() {
		var err error
		defer close(p.done)
		defer func() {
			if err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("could not show the click in progress on the check run")
			}
		}()
		defer panics.Recover(ctx, "show the click in progress", &err)
		err = update(ctx)
	}
	if delay <= 0 {
		go send()
	} else {
		p.timer = time.AfterFunc(delay, send)
	}
	return p
}

// stop cancels the report if it was not sent yet, or waits until it was,
// so that the outcome reported next is the check run's last word.
func (p *progressReport) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	if p.timer != nil && p.timer.Stop() {
		return
	}
	<-p.done
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
