package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
)

// IssueComment obeys /rollback commands in issue and pull request
// conversations.
type IssueComment struct {
	*Base
}

var _ githubapp.EventHandler = (*IssueComment)(nil)

// Handles lists the issue_comment event.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle obeys the command of a newly created comment; edited and deleted
// comments are ignored so that an edit never repeats a rollback.
func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.IssueCommentEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse issue_comment event: %w", err)
	}
	if event.GetAction() != "created" {
		zerolog.Ctx(ctx).Debug().Str(logkey.Action, event.GetAction()).Msg("ignoring a comment that was not just created")
		return nil
	}
	// go-github v57 does not decode performed_via_github_app.
	var via struct {
		Comment struct {
			PerformedViaGitHubApp json.RawMessage `json:"performed_via_github_app"`
		} `json:"comment"`
	}
	if err := json.Unmarshal(payload, &via); err != nil {
		return fmt.Errorf("parse issue_comment event: %w", err)
	}
	comment := event.GetComment()
	e := commentEvent{
		installationID: event.GetInstallation().GetID(),
		repo:           event.GetRepo(),
		author:         comment.GetUser(),
		viaApp:         len(via.Comment.PerformedViaGitHubApp) > 0 && string(via.Comment.PerformedViaGitHubApp) != "null",
		body:           comment.GetBody(),
		association:    comment.GetAuthorAssociation(),
	}
	return runComment(ctx, h.Base, e, func(repo *githubapi.Repo) thread {
		return issueThread{repo: repo, number: event.GetIssue().GetNumber(), comment: comment.GetID()}
	})
}

// issueThread replies on an issue or pull request conversation.
type issueThread struct {
	repo    *githubapi.Repo
	number  int
	comment int64
}

func (t issueThread) acknowledge(ctx context.Context) error {
	return t.repo.AcknowledgeIssueComment(ctx, t.comment)
}

func (t issueThread) reply(ctx context.Context, body string) error {
	return t.repo.ReplyToIssue(ctx, t.number, body)
}
