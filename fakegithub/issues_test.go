package fakegithub_test

import (
	"net/http"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// branch makes a commit on a new branch forked from main.
func branch(t *testing.T, repo *fakegithub.Repo, name string) string {
	t.Helper()
	main, _ := repo.Ref("main")
	if err := repo.SetRef(name, main); err != nil {
		t.Fatal(err)
	}
	sha, err := repo.Commit(name, fakegithub.CommitSpec{Message: "on " + name, Author: fluxAuthor, Files: map[string]*fakegithub.File{name + ".txt": {Content: name}}})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func TestPullRequests(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	headSHA := branch(t, e.repo, "rollback-abcdef0")
	e.repo.SetPermission("alice", "write")
	gh := e.installationClient(t)
	newPR := &github.NewPullRequest{Title: github.String("Roll back"), Head: github.String("acme:rollback-abcdef0"), Base: github.String("main"), Draft: github.Bool(true)}
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "deploy", newPR)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.GetDraft() || pr.GetHead().GetSHA() != headSHA || pr.GetUser().GetLogin() != "flux-rollback[bot]" {
		t.Fatalf("pr = %+v", pr)
	}
	_, _, err = gh.PullRequests.Create(ctx, "acme", "deploy", newPR)
	wantStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")
	if msg := err.(*github.ErrorResponse).Errors[0].Message; msg != "A pull request already exists for acme:rollback-abcdef0." {
		t.Fatalf("duplicate PR error = %q", msg)
	}
	for name, head := range map[string]string{"missing head": "nope", "no commits": "main"} {
		_, _, err := gh.PullRequests.Create(ctx, "acme", "deploy", &github.NewPullRequest{Title: github.String(name), Head: github.String(head), Base: github.String("main")})
		wantStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")
	}
	_, _, err = gh.PullRequests.Create(ctx, "acme", "deploy", &github.NewPullRequest{Title: github.String("x"), Head: github.String("rollback-abcdef0"), Base: github.String("nope")})
	wantStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")

	list, _, err := gh.PullRequests.List(ctx, "acme", "deploy", &github.PullRequestListOptions{Head: "acme:rollback-abcdef0"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("list = %v (%v)", list, err)
	}
	none, _, err := gh.PullRequests.List(ctx, "acme", "deploy", &github.PullRequestListOptions{Head: "acme:other"})
	if err != nil || len(none) != 0 {
		t.Fatalf("list for another head = %v (%v)", none, err)
	}

	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "deploy", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	e.gh.AddUser("mallory")
	_, _, err = gh.PullRequests.RequestReviewers(ctx, "acme", "deploy", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"mallory"}})
	wantStatus(t, err, http.StatusUnprocessableEntity, "")
	got, _, err := gh.PullRequests.Get(ctx, "acme", "deploy", pr.GetNumber())
	if err != nil || len(got.RequestedReviewers) != 1 || got.RequestedReviewers[0].GetLogin() != "alice" {
		t.Fatalf("reviewers = %v (%v)", got.RequestedReviewers, err)
	}
	labels, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "deploy", pr.GetNumber(), []string{"rollback", "automated"})
	if err != nil || len(labels) != 2 {
		t.Fatalf("labels = %v (%v)", labels, err)
	}
	if got := e.repo.Labels(pr.GetNumber()); len(got) != 2 || got[0] != "rollback" {
		t.Fatalf("Labels() = %v", got)
	}
	issue, _, err := gh.Issues.Get(ctx, "acme", "deploy", pr.GetNumber())
	if err != nil || !issue.IsPullRequest() {
		t.Fatalf("the PR as an issue = %+v (%v)", issue, err)
	}
}

func TestCommentsAndReactions(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	n := e.repo.AddIssue("tracking")
	gh := e.installationClient(t)
	cm, _, err := gh.Issues.CreateComment(ctx, "acme", "deploy", n, &github.IssueComment{Body: github.String("Rolling back.")})
	if err != nil || cm.GetUser().GetType() != "Bot" {
		t.Fatalf("comment = %+v (%v)", cm, err)
	}
	_, _, err = gh.Issues.CreateComment(ctx, "acme", "deploy", 99, &github.IssueComment{Body: github.String("x")})
	wantStatus(t, err, http.StatusNotFound, "Not Found")
	list, _, err := gh.Issues.ListComments(ctx, "acme", "deploy", n, nil)
	if err != nil || len(list) != 1 || list[0].GetBody() != "Rolling back." {
		t.Fatalf("comments = %v (%v)", list, err)
	}
	if got := e.repo.IssueComments(n); len(got) != 1 || !got[0].ViaApp {
		t.Fatalf("IssueComments() = %+v", got)
	}

	_, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "deploy", cm.GetID(), "eyes")
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("first reaction: %v", err)
	}
	_, resp, err = gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "deploy", cm.GetID(), "eyes")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("same reaction again: status %d (%v)", resp.StatusCode, err)
	}
	_, _, err = gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "deploy", cm.GetID(), "thumbs")
	wantStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")
	if got := e.repo.Reactions(cm.GetID()); len(got) != 1 || got[0].Content != "eyes" {
		t.Fatalf("Reactions() = %+v", got)
	}

	cc, _, err := gh.Repositories.CreateComment(ctx, "acme", "deploy", head, &github.RepositoryComment{Body: github.String("Reverted in #1")})
	if err != nil || cc.GetCommitID() != head {
		t.Fatalf("commit comment = %+v (%v)", cc, err)
	}
	if _, _, err := gh.Reactions.CreateCommentReaction(ctx, "acme", "deploy", cc.GetID(), "rocket"); err != nil {
		t.Fatal(err)
	}
	ccs, _, err := gh.Repositories.ListCommitComments(ctx, "acme", "deploy", head, nil)
	if err != nil || len(ccs) != 1 {
		t.Fatalf("commit comments = %v (%v)", ccs, err)
	}
	_, _, err = gh.Reactions.CreateCommentReaction(ctx, "acme", "deploy", cm.GetID(), "rocket")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
}

func TestCollaboratorPermission(t *testing.T) {
	e := newEnv(t)
	private := e.gh.AddRepo("acme", "secret", fakegithub.RepoOptions{Installation: installationID, Private: true})
	for role, perm := range map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"} {
		e.repo.SetPermission("u-"+role, role)
		private.SetPermission("u-"+role, role)
		for _, repo := range []string{"deploy", "secret"} {
			got, _, err := e.installationClient(t).Repositories.GetPermissionLevel(ctx, "acme", repo, "u-"+role)
			if err != nil || got.GetPermission() != perm || got.GetUser().GetLogin() != "u-"+role {
				t.Fatalf("%s on %s = %+v (%v), want %s", role, repo, got, err, perm)
			}
		}
	}
	// role_name is not in go-github's struct; read the raw response.
	e.gh.AddUser("stranger")
	for repo, want := range map[string]string{"deploy": `"permission":"read"`, "secret": `"permission":"none"`} {
		resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/"+repo+"/collaborators/stranger/permission", "token "+e.gh.IssueToken(installationID))
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !contains(body, want) || !contains(body, `"role_name":`) {
			t.Fatalf("stranger on %s: %d %s", repo, resp.StatusCode, body)
		}
	}
	resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy/collaborators/u-maintain/permission", "token "+e.gh.IssueToken(installationID))
	if body := readAll(t, resp); !contains(body, `"role_name":"maintain"`) {
		t.Fatalf("maintainer: %s", body)
	}
	_, _, err := e.installationClient(t).Repositories.GetPermissionLevel(ctx, "acme", "deploy", "nobody-by-that-name")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
}
