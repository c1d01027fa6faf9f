package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/command"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// thread is where a command was typed: the reply goes back there.
type thread interface {
	acknowledge(ctx context.Context) error
	reply(ctx context.Context, body string) error
}

// commentEvent is what the comment handlers share of their events.
type commentEvent struct {
	installationID int64
	repo           *github.Repository
	author         *github.User
	viaApp         bool   // the comment was made through a GitHub App
	body           string // the comment
	commit         string // the commented commit, for commit comments
	association    string // the author's author_association: OWNER, MEMBER, COLLABORATOR, NONE...
}

// fromBot reports whether a bot wrote the comment; bots (this App among
// them) are never obeyed, so two apps cannot drive each other.
func (e commentEvent) fromBot() bool {
	return e.viaApp || e.author.GetType() == "Bot" || strings.HasSuffix(e.author.GetLogin(), "[bot]")
}

// runComment obeys the /rollback command in a new comment, if there is one.
func runComment(ctx context.Context, b *Base, e commentEvent, newThread func(*githubapi.Repo) thread) error {
	if e.fromBot() {
		zerolog.Ctx(ctx).Debug().Str(logkey.User, e.author.GetLogin()).Msg("ignoring a comment by a bot")
		return nil
	}
	cmd, ok := command.Parse(e.body)
	if !ok {
		zerolog.Ctx(ctx).Debug().Msg("comment holds no command")
		return nil
	}
	requester := e.author.GetLogin()
	ctx, logger := withKeys(ctx, cmd.SHA, requester)

	client, repo, err := b.repository(e.installationID, e.repo.GetOwner().GetLogin(), e.repo.GetName())
	if err != nil {
		return err
	}
	t := newThread(repo)
	admitted, role, refusal, err := admitCommenter(ctx, repo, e, requester)
	switch {
	case err != nil:
		return err // nothing was written; a redelivery asks again
	case !admitted && refusal != "":
		return t.reply(ctx, refusal)
	case !admitted:
		return nil
	}
	if err := t.acknowledge(ctx); err != nil {
		return err
	}

	// The role read to admit the author answers the rollback's own check.
	svc := newService(repo).WithRole(requester, role)
	reply, err := answer(ctx, b, client, svc, repo, e, cmd, requester)
	if err != nil {
		// The failure is told where the command was typed, and returned so
		// that the delivery is recorded as failed and can be redelivered.
		if rerr := t.reply(ctx, report.FailureReply(err)); rerr != nil {
			logger.Error().Err(rerr).Msg("could not reply with the failure")
		}
		return err
	}
	return t.reply(ctx, reply)
}

// answer carries out a command and words the reply.
func answer(ctx context.Context, b *Base, client *github.Client, svc *rollback.Service, repo *githubapi.Repo, e commentEvent, cmd command.Command, requester string) (string, error) {
	switch cmd.Kind {
	case command.Help:
		return command.HelpText(), nil
	case command.Unknown:
		return report.UnknownCommandReply(cmd.Raw, command.HelpText()), nil
	case command.Here:
		if e.commit == "" {
			return report.NoCommitHereReply(command.HelpText()), nil
		}
		cmd.SHA = e.commit
	}

	defaultBranch := e.repo.GetDefaultBranch()
	if cmd.SHA != "" {
		// The commit and the branch head are read while the configuration
		// is, as for a click.
		var stopReads func()
		svc, stopReads = svc.Prefetch(ctx, requester, cmd.SHA, defaultBranch)
		defer stopReads()
	}
	cfg, err := b.loadConfig(ctx, client, repo.Owner(), repo.Name(), defaultBranch)
	if err != nil {
		return "", err
	}
	if cfg.broken() {
		return report.RefusedBrokenConfigReply(cfg.Source, cfg.problem), nil
	}
	if !cfg.enabled() {
		return report.DisabledReply, nil
	}

	if cmd.Kind == command.Status || cmd.Kind == command.Resume {
		return answerHold(ctx, svc, cfg, cmd, defaultBranch, requester)
	}
	req := rollback.Request{
		Commit: cmd.SHA, Branch: defaultBranch, Requester: requester,
		Config: cfg.Config, Detection: cfg.detection, RequireRelease: !cfg.Config.AllowAnyCommit,
	}
	var out *rollback.Outcome
	switch cmd.Kind {
	case command.Image:
		req.Commit, err = svc.NewestRelease(ctx, req, cmd.Image)
		if err == nil {
			out, err = svc.Revert(ctx, req)
		}
	case command.ImageToTag:
		out, err = svc.RestoreTo(ctx, req, cmd.Image, cmd.Tag)
	default:
		out, err = svc.Revert(ctx, req)
	}

	if err != nil {
		return refusalReply(ctx, "rollback", err)
	}
	return report.OutcomeText(out, requester), nil
}

// refusalReply words a refused command's reply, and logs the refusal; any
// other error is returned as it is.
func refusalReply(ctx context.Context, what string, err error) (string, error) {
	var refusal *rollback.Refusal
	if !errors.As(err, &refusal) {
		return "", err
	}
	zerolog.Ctx(ctx).Info().Str(logkey.Reason, string(refusal.Reason)).Msg(what + " refused")
	return report.RefusalReply(refusal), nil
}
