package fakegithub_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// openPR opens a pull request from a new branch with one commit.
func openPR(t *testing.T, e *env, name string) (int, string) {
	t.Helper()
	head := branch(t, e.repo, name)
	n, err := e.repo.OpenPullRequest(fakegithub.PullRequestSpec{Title: "Change " + name, Head: name})
	if err != nil {
		t.Fatal(err)
	}
	return n, head
}

func TestMergePullRequestMakesAMergeCommitAndPushesTheBase(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	seed(t, e.repo, map[string]string{"a": "1"})
	if _, err := e.repo.Push(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	before, _ := e.repo.Ref("main")
	n, head := openPR(t, e, "rollback-abcdef0")
	e.gh.AddUser("alice")

	sha, d, err := e.repo.MergePullRequest(ctx, n, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if main, _ := e.repo.Ref("main"); main != sha {
		t.Fatalf("main is %s, want the merge commit %s", main, sha)
	}
	c, err := e.repo.CommitInfo(sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Parents) != 2 || c.Parents[0] != before || c.Parents[1] != head {
		t.Errorf("merge parents %v, want [%s %s]", c.Parents, before, head)
	}
	if want := "Merge pull request #1 from acme/rollback-abcdef0\n\nChange rollback-abcdef0"; c.Message != want {
		t.Errorf("message %q, want %q", c.Message, want)
	}
	if c.Tree != treeOfCommit(t, e.repo, head) {
		t.Errorf("the merge of a pull request based on the tip has the head's tree")
	}
	push := rc.last(t).payload.(*github.PushEvent)
	if d.Event != "push" || push.GetRef() != "refs/heads/main" || push.GetBefore() != before || push.GetAfter() != sha ||
		len(push.Commits) != 2 || push.GetPusher().GetName() != "alice" {
		t.Errorf("push after the merge = %+v", push)
	}

	pr := e.repo.PullRequests()[0]
	if pr.State != "closed" || !pr.Merged || pr.MergeCommitSHA != sha || pr.MergedBy != "alice" {
		t.Errorf("pull request after the merge = %+v", pr)
	}
	got, _, err := e.installationClient(t).PullRequests.Get(ctx, "acme", "deploy", n)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetState() != "closed" || !got.GetMerged() || got.GetMergedAt().IsZero() || got.GetMergedBy().GetLogin() != "alice" ||
		got.GetMergeCommitSHA() != sha || got.GetClosedAt().IsZero() {
		t.Errorf("GET pull = %+v", got)
	}

	if _, _, err := e.repo.MergePullRequest(ctx, n, "alice", ""); err == nil {
		t.Error("a merged pull request merged again")
	}
}

func TestMergeThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1", "b": "1"})
	n, head := openPR(t, e, "fix")
	gh := e.installationClient(t)

	_, _, err := gh.PullRequests.Merge(ctx, "acme", "deploy", n, "", &github.PullRequestOptions{SHA: "0123456789012345678901234567890123456789"})
	wantStatus(t, err, http.StatusConflict, "Head branch was modified. Review and try the merge again.")

	// main moves on in another file: the merge combines both.
	if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "b", Author: fluxAuthor, Files: map[string]*fakegithub.File{"b": {Content: "2"}}}); err != nil {
		t.Fatal(err)
	}
	res, _, err := gh.PullRequests.Merge(ctx, "acme", "deploy", n, "", &github.PullRequestOptions{SHA: head, MergeMethod: "squash"})
	if err != nil || !res.GetMerged() {
		t.Fatalf("squash merge = %+v, %v", res, err)
	}
	c, _ := e.repo.CommitInfo(res.GetSHA())
	if len(c.Parents) != 1 || c.Message != "Change fix (#1)\n\n* on fix" {
		t.Errorf("squash commit %+v", c)
	}
	for p, want := range map[string]string{"a": "1", "b": "2", "fix.txt": "fix"} {
		if got, err := e.repo.ReadFile("main", p); err != nil || got != want {
			t.Errorf("%s on main = %q (%v), want %q", p, got, err, want)
		}
	}
	_, _, err = gh.PullRequests.Merge(ctx, "acme", "deploy", n, "", nil)
	wantStatus(t, err, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
}

func TestMergeConflictIsRefused(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	main, _ := e.repo.Ref("main")
	if err := e.repo.SetRef("edit", main); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"edit", "main"} {
		if _, err := e.repo.Commit(b, fakegithub.CommitSpec{Message: b, Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: b}}}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.repo.OpenPullRequest(fakegithub.PullRequestSpec{Title: "Edit", Head: "edit"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.installationClient(t).PullRequests.Merge(ctx, "acme", "deploy", n, "", nil)
	wantStatus(t, err, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	if pr := e.repo.PullRequests()[0]; pr.State != "open" || pr.Merged {
		t.Errorf("a refused merge changed the pull request: %+v", pr)
	}
}

func TestListIssuesByLabelAndState(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	held, _ := openPR(t, e, "rollback-1111111")
	other, _ := openPR(t, e, "rollback-2222222")
	open, _ := openPR(t, e, "rollback-3333333")
	issue := e.repo.AddIssue("An issue")
	gh := e.installationClient(t)
	for _, n := range []int{held, open, issue} {
		if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "deploy", n, []string{"flux-rollback:hold"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{held, other} {
		// No webhook is set: the merge is made, the push not delivered.
		if _, _, err := e.repo.MergePullRequest(ctx, n, "acme", ""); !errors.Is(err, fakegithub.ErrNoWebhook) {
			t.Fatal(err)
		}
	}

	req, err := gh.NewRequest("GET", "repos/acme/deploy/issues?state=closed&labels=flux-rollback:hold&sort=updated&per_page=100", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Number      int `json:"number"`
		PullRequest *struct {
			MergedAt *string `json:"merged_at"`
		} `json:"pull_request"`
		ClosedAt *string `json:"closed_at"`
	}
	if _, err := gh.Do(ctx, req, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Number != held || got[0].PullRequest == nil || got[0].PullRequest.MergedAt == nil || got[0].ClosedAt == nil {
		b, _ := json.Marshal(got)
		t.Fatalf("closed pull requests labelled flux-rollback:hold = %s, want #%d merged", b, held)
	}

	openOnes, _, err := gh.Issues.ListByRepo(ctx, "acme", "deploy", &github.IssueListByRepoOptions{Labels: []string{"flux-rollback:hold"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(openOnes) != 2 || openOnes[0].GetNumber() != issue || openOnes[1].GetNumber() != open || !openOnes[1].IsPullRequest() {
		t.Errorf("open issues labelled = %v", openOnes)
	}
}

func treeOfCommit(t *testing.T, repo *fakegithub.Repo, sha string) string {
	t.Helper()
	c, err := repo.CommitInfo(sha)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tree
}
