package handlers_test

import (
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

const apiJS = "gcr.io/track-compliance/api-js"

func TestClickOpensTheRevertPullRequest(t *testing.T) {
	e := start(t)
	parent, _ := e.repo.Ref("heads/main")
	release, err := e.repo.ReleaseV1(e.ctx, apiJS, "master-26a4b87")
	if err != nil {
		t.Fatal(err)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	if run.Conclusion != "neutral" || run.Output.Title != "api-js master-f01225d -> master-26a4b87" {
		t.Fatalf("check run = %+v", run)
	}

	e.GitHub.ResetRequests()
	d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, report.ActionRollback, sandbox.Human.Login)
	if err != nil {
		t.Fatal(err)
	}
	if d.StatusCode != 200 {
		t.Fatalf("delivery answered %d: %s", d.StatusCode, d.ResponseBody)
	}

	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("want 1 pull request, got %+v", prs)
	}
	pr := prs[0]
	branch := "rollback-" + release[:7]
	if pr.Head != branch || pr.Base != "main" {
		t.Errorf("pull request %s -> %s, want %s -> main", pr.Head, pr.Base, branch)
	}
	for _, want := range []string{"api-js", "master-26a4b87", "master-f01225d", release[:7], "@alice", "automation"} {
		if !strings.Contains(pr.Title+pr.Body, want) {
			t.Errorf("pull request does not mention %q:\n%s\n%s", want, pr.Title, pr.Body)
		}
	}

	head, _ := e.repo.Ref("heads/" + branch)
	commit, err := e.repo.CommitInfo(head)
	if err != nil {
		t.Fatal(err)
	}
	if len(commit.Parents) != 1 || commit.Parents[0] != release {
		t.Errorf("rollback commit parents = %v, want [%s]", commit.Parents, release)
	}
	wantMessage := "Revert \"Auto-release gcr.io/track-compliance/api-js:master-26a4b87\"\n\nThis reverts commit " + release + ".\n\nRollback-requested-by: @alice\n"
	if commit.Message != wantMessage {
		t.Errorf("message = %q, want %q", commit.Message, wantMessage)
	}
	// The revert restores the parent's tree exactly.
	if got, want := treeOf(t, e.repo.Repo, head), treeOf(t, e.repo.Repo, parent); got != want {
		t.Errorf("rollback tree %s, want the release's parent tree %s", got, want)
	}
	if main, _ := e.repo.Ref("heads/main"); main != release {
		t.Errorf("main moved to %s", main)
	}

	run = e.rollbackRun(t, e.repo.Repo, release)
	if run.Status != "completed" || !strings.Contains(run.Output.Summary, "#1") {
		t.Errorf("check run after the click = %+v", run)
	}
	if n := len(e.apiCalls()); n > 13 {
		t.Errorf("the click took %d GitHub calls, want at most 13:\n%s", n, routes(e.apiCalls()))
	}
}

func treeOf(t *testing.T, repo *fakegithub.Repo, sha string) string {
	t.Helper()
	c, err := repo.CommitInfo(sha)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tree
}

func routes(reqs []fakegithub.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Method + " " + r.Path + "\n")
	}
	return b.String()
}
