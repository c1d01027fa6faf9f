package githubapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v57/github"
)

// ReplyToIssue comments on an issue or pull request conversation.
func (r *Repo) ReplyToIssue(ctx context.Context, number int, body string) error {
	body = fitBody(body)
	since := time.Now().Add(-lookBack)
	_, err := createChecked(ctx, func() (bool, error) {
		_, _, err := r.client.Issues.CreateComment(ctx, r.owner, r.name, number, &github.IssueComment{Body: github.String(body)})
		return true, err
	}, func() (bool, bool, error) {
		found, err := r.findIssueComment(ctx, number, body, since)
		return found, found, err
	})
	if err != nil {
		return fmt.Errorf("comment on #%d: %w", number, err)
	}
	return nil
}

// ReplyToCommit comments on a commit.
func (r *Repo) ReplyToCommit(ctx context.Context, sha string, body string) error {
	body = fitBody(body)
	since := time.Now().Add(-lookBack)
	_, err := createChecked(ctx, func() (bool, error) {
		_, _, err := r.client.Repositories.CreateComment(ctx, r.owner, r.name, sha, &github.RepositoryComment{Body: github.String(body)})
		return true, err
	}, func() (bool, bool, error) {
		found, err := r.findCommitComment(ctx, sha, body, since)
		return found, found, err
	})
	if err != nil {
		return fmt.Errorf("comment on commit %s: %w", sha, err)
	}
	return nil
}

// AcknowledgeIssueComment puts an "eyes" reaction on an issue comment.
func (r *Repo) AcknowledgeIssueComment(ctx context.Context, id int64) error {
	if _, _, err := r.client.Reactions.CreateIssueCommentReaction(ctx, r.owner, r.name, id, "eyes"); err != nil {
		return fmt.Errorf("react to comment %d: %w", id, err)
	}
	return nil
}

// AcknowledgeCommitComment puts an "eyes" reaction on a commit comment.
func (r *Repo) AcknowledgeCommitComment(ctx context.Context, id int64) error {
	if _, _, err := r.client.Reactions.CreateCommentReaction(ctx, r.owner, r.name, id, "eyes"); err != nil {
		return fmt.Errorf("react to commit comment %d: %w", id, err)
	}
	return nil
}
