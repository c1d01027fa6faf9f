package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/fluxstatus"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/internal/logkey"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// Status turns the commit statuses Flux's notification-controller posts for
// its Kustomizations into warnings on the releases they blame, and, where the
// repository asks for it, into their rollback pull requests.
type Status struct {
	*Base
}

var _ githubapp.EventHandler = (*Status)(nil)

// Handles lists the status event.
func (h *Status) Handles() []string { return []string{"status"} }

// Handle re-assesses the releases a success or failure status from a Flux
// context may blame or clear.
func (h *Status) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.StatusEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse status event: %w", err)
	}
	ev := fluxstatus.Status{
		Context: event.GetContext(), State: event.GetState(), Description: event.GetDescription(),
		TargetURL: event.GetTargetURL(), Time: event.GetUpdatedAt().Time, Commit: event.GetSHA(),
	}
	// The status's commit has a key of its own: the lines about each
	// release it blames add that release under logkey.SHA.
	logger := zerolog.Ctx(ctx).With().Str(logkey.StatusSHA, ev.Commit).Str(logkey.StatusContext, ev.Context).Str(logkey.StatusState, ev.State).Logger()
	ctx = logger.WithContext(ctx)

	// Statuses of CI and other tools are the bulk of these events: they are
	// dropped before any GitHub request, on the server's defaults alone.
	if !h.Configs.Defaults().AcceptsStatusContext(ev.Context) {
		logger.Debug().Msg("ignoring a status from a context that is not Flux's")
		return nil
	}
	if !ev.Failed() && !ev.Succeeded() {
		logger.Debug().Msg("ignoring a pending status")
		return nil
	}
	var onBranches []string
	for _, b := range event.Branches {
		onBranches = append(onBranches, b.GetName())
	}
	if len(onBranches) == 0 {
		logger.Debug().Msg("ignoring a status on a commit of no branch")
		return nil
	}

	owner, name := event.GetRepo().GetOwner().GetLogin(), event.GetRepo().GetName()
	client, repo, err := h.repository(event.GetInstallation().GetID(), owner, name)
	if err != nil {
		return err
	}
	defaultBranch := event.GetRepo().GetDefaultBranch()
	cfg, err := h.loadConfig(ctx, client, owner, name, defaultBranch)
	switch {
	case err != nil:
		return err
	case cfg.broken():
		// Shown on the next push; nothing is done until it is fixed.
		logger.Debug().Err(cfg.problem).Msg("ignoring a status: the repository configuration is broken")
		return nil
	case !cfg.enabled():
		logger.Debug().Msg("flux-rollback is disabled for this repository")
		return nil
	case !cfg.Config.AcceptsStatusContext(ev.Context):
		logger.Debug().Msg("the repository does not accept this status context")
		return nil
	}
	branch := watchedBranch(cfg, onBranches, defaultBranch)
	if branch == "" && len(onBranches) >= maxStatusBranches {
		// GitHub lists at most 10 of the branches holding the commit; the
		// default branch may be one it left out. Assess finds out.
		branch = defaultBranch
	}
	if branch == "" {
		logger.Debug().Strs(logkey.Branch, onBranches).Msg("ignoring a status on a commit of no watched branch")
		return nil
	}

	assessed, err := fluxstatus.Assess(ctx, repo, branch, ev, cfg.Config.AcceptsStatusContext)
	if errors.Is(err, fluxstatus.ErrOutOfReach) {
		logger.Debug().Str(logkey.Branch, branch).Int(logkey.Commits, fluxstatus.MaxCommits).Msg("ignoring a status on a commit older than the branch's latest commits")
		return nil
	}
	if err != nil {
		return err
	}

	commitURL := func(sha string) string { return event.GetRepo().GetHTMLURL() + "/commit/" + sha }
	act := &statusAction{h: h, repo: repo, cfg: cfg, branch: branch, ev: ev, cut: assessed.Cut, commitURL: commitURL}
	warned := 0
	for _, v := range assessed.Commits {
		shows, err := act.update(ctx, v)
		if err != nil {
			return err
		}
		if shows {
			warned++
		}
	}
	logger.Info().Str(logkey.Branch, branch).Int(logkey.Examined, len(assessed.Commits)).Int(logkey.Warned, warned).Msg("status handled")
	return nil
}

// maxStatusBranches is how many branches holding the commit a status
// webhook lists.
const maxStatusBranches = 10

// watchedBranch is the branch a status is assessed on: the default branch
// when the commit is on it, else the first watched branch GitHub lists.
func watchedBranch(cfg *repoConfig, branches []string, defaultBranch string) string {
	if slices.Contains(branches, defaultBranch) {
		return defaultBranch
	}
	for _, b := range branches {
		if cfg.watches(b, defaultBranch) {
			return b
		}
	}
	return ""
}

// statusAction brings the check runs of the assessed commits up to date.
type statusAction struct {
	h         *Status
	repo      *githubapi.Repo
	cfg       *repoConfig
	branch    string
	ev        fluxstatus.Status
	cut       bool
	commitURL func(string) string
	requester string // the App's account, read once when needed
}

// update shows v on the commit's Rollback check run, when it has one, and
// opens its rollback pull request when the repository asks for it. It
// reports whether the check run shows Flux failing.
func (a *statusAction) update(ctx context.Context, v fluxstatus.Verdict) (bool, error) {
	logger := zerolog.Ctx(ctx).With().Str(logkey.SHA, v.SHA).Logger()
	run, err := a.repo.LatestCheckRun(ctx, a.h.AppID, v.SHA, report.CheckRunName)
	if err != nil {
		return false, err
	}
	if run == nil {
		logger.Debug().Msg("no Rollback check run: not a release")
		return false, nil
	}
	if run.Status != "completed" {
		// A click is being handled; its outcome replaces the check run, and
		// the next status from Flux shows the warning again.
		logger.Debug().Int64(logkey.CheckRunID, run.ID).Msg("leaving a check run in progress alone")
		return false, nil
	}
	shown := run.CheckRun
	if a.ev.Failed() && a.cfg.Config.OpensPullRequestOnFailure() {
		if failing := failingIn(v, a.ev.Context); failing != nil {
			if outcome, ok, err := a.openPullRequest(ctx, v.SHA, *failing); err != nil {
				return false, err
			} else if ok {
				shown = outcome
			}
		}
	}
	updated, changed := report.FluxStatus(shown, v, a.cut, a.commitURL)
	if changed || shown.Actions != nil {
		if err := a.repo.UpdateCheckRun(ctx, run.ID, updated); err != nil {
			return false, err
		}
	}
	return report.HasFluxWarning(updated), nil
}

// failingIn returns the state of context in v when it is failing.
func failingIn(v fluxstatus.Verdict, context string) *fluxstatus.ContextState {
	for _, c := range v.Failing() {
		if c.Latest.Context == context {
			return &c
		}
	}
	return nil
}

// openPullRequest opens the rollback pull request of a release Flux reports
// failing, as a click would, and returns what its check run shows then. It
// reports false when nothing was opened: the release was rolled back before.
func (a *statusAction) openPullRequest(ctx context.Context, sha string, failing fluxstatus.ContextState) (report.CheckRun, bool, error) {
	logger := zerolog.Ctx(ctx).With().Str(logkey.SHA, sha).Logger()
	if a.requester == "" {
		login, err := a.h.appLogin(ctx)
		if err != nil {
			return report.CheckRun{}, false, err
		}
		a.requester = login
	}
	req := rollback.Request{
		Commit: sha, Branch: a.branch, Requester: a.requester,
		Config: a.cfg.Config, Detection: a.cfg.detection, RequireRelease: !a.cfg.Config.AllowAnyCommit,
		Cause: report.FluxFailureCause(failing, a.commitURL),
	}
	out, err := newService(a.repo).RevertOnFailure(ctx, req, a.repo)
	var refusal *rollback.Refusal
	switch {
	case errors.Is(err, rollback.ErrRolledBackBefore):
		logger.Info().Str(logkey.Reason, err.Error()).Msg("not opening a rollback pull request: the release was rolled back before")
		return report.CheckRun{}, false, nil
	case errors.As(err, &refusal):
		logger.Info().Str(logkey.Reason, string(refusal.Reason)).Msg("automatic rollback refused")
		return report.Refused(refusal), true, nil
	case err != nil:
		return report.CheckRun{}, false, err
	}
	logger.Info().Int(logkey.PullRequest, out.PullRequest.Number).Bool(logkey.Existing, out.Existing).Msg("rollback pull request opened on Flux's failure")
	return report.Done(out, a.requester), true, nil
}

// appLogin is the App's own account, which asks for automatic rollbacks.
func (b *Base) appLogin(ctx context.Context) (string, error) {
	client, err := b.NewAppClient()
	if err != nil {
		return "", fmt.Errorf("create app client: %w", err)
	}
	app, _, err := client.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the app: %w", err)
	}
	return app.GetSlug() + "[bot]", nil
}
