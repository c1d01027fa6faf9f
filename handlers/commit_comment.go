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

// CommitComment obeys /rollback commands in comments on a commit; there,
// /rollback alone means that commit.
type CommitComment struct {
	*Base
}

var _ githubapp.EventHandler = (*CommitComment)(nil)

// Handles lists the commit_comment event.
func (h *CommitComment) Handles() []string { return []string{"commit_comment"} }

// Handle obeys the command of a newly created commit comment.
func (h *CommitComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.CommitCommentEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse commit_comment event: %w", err)
	}
	if event.GetAction() != "created" {
		zerolog.Ctx(ctx).Debug().Str(logkey.Action, event.GetAction()).Msg("ignoring a commit comment that was not just created")
		return nil
	}
	comment := event.GetComment()
	// go-github's RepositoryComment has no author_association.
	var extra struct {
		Comment struct {
			AuthorAssociation string `json:"author_association"`
		} `json:"comment"`
	}
	_ = json.Unmarshal(payload, &extra) // the payload parsed above
	e := commentEvent{
		installationID: event.GetInstallation().GetID(),
		repo:           event.GetRepo(),
		author:         comment.GetUser(),
		body:           comment.GetBody(),
		commit:         comment.GetCommitID(),
		association:    extra.Comment.AuthorAssociation,
	}
	return runComment(ctx, h.Base, e, func(repo *githubapi.Repo) thread {
		return commitThread{repo: repo, sha: comment.GetCommitID(), comment: comment.GetID()}
	})
}

// commitThread replies on a commit's comments.
type commitThread struct {
	repo    *githubapi.Repo
	sha     string
	comment int64
}

func (t commitThread) acknowledge(ctx context.Context) error {
	return t.repo.AcknowledgeCommitComment(ctx, t.comment)
}

func (t commitThread) reply(ctx context.Context, body string) error {
	return t.repo.ReplyToCommit(ctx, t.sha, body)
}
