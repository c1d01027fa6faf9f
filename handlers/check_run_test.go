package handlers_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

const apiJS = "gcr.io/track-compliance/api-js"

// clickRoutes are the requests of a click on a Flux v2 release at the tip
// of main in a repository without a configuration file, holds off
// (rollback.defaults.hold: false) and progress shown at once: the
// configuration (the repository's file, then the organisation's
// .github repository), the check run in progress, the three reads that
// start with them (role, commit, head), the parent's tree (the revert of
// the tip is its parent's tree), the commit, the branch, the pull request
// and the outcome on the check run. docs/performance.md lists them.
var clickRoutes = []string{
	"GET /repos/{owner}/{repo}/contents/{path}",
	"GET /repos/{owner}/{repo}",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission",
	"GET /repos/{owner}/{repo}/commits/{ref}",
	"GET /repos/{owner}/{repo}/compare/{basehead}",
	"GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
	"POST /repos/{owner}/{repo}/git/commits",
	"POST /repos/{owner}/{repo}/git/refs",
	"POST /repos/{owner}/{repo}/pulls",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
}

// TestClickCostListsEveryRequest holds the click to the requests listed in
// docs/performance.md: eleven, the check run marked in progress included.
func TestClickCostListsEveryRequest(t *testing.T) {
	e := start(t, func(c *server.Config) {
		hold := false
		c.Rollback.Defaults.Hold = &hold
		c.Rollback.ProgressDelay = 0
	})
	parent, _ := e.repo.Ref("heads/main")
	release, err := e.repo.ReleaseV2(e.ctx, "1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	e.GitHub.ResetRequests()
	if d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, report.ActionRollback, sandbox.Human.Login); err != nil || d.StatusCode != 200 {
		t.Fatalf("click: %v, %+v", err, d)
	}
	branch := "rollback-" + release[:7]
	head, ok := e.repo.Ref("heads/" + branch)
	if !ok {
		t.Fatalf("no branch %s", branch)
	}
	if got, want := treeOf(t, e.repo.Repo, head), treeOf(t, e.repo.Repo, parent); got != want {
		t.Errorf("rollback tree %s, want the release's parent tree %s", got, want)
	}
	var got []string
	for _, r := range e.apiCalls() {
		got = append(got, r.Route)
	}
	if want := slices.Sorted(slices.Values(clickRoutes)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("the click made\n%s\nwant (in any order)\n%s", routes(e.apiCalls()), strings.Join(clickRoutes, "\n"))
	}
}

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
	// 13, and the two reads of the release file (on the head and reverted)
	// that tell which Flux v1 workloads to lock.
	if n := len(e.apiCalls()); n > 15 {
		t.Errorf("the click took %d GitHub calls, want at most 15:\n%s", n, routes(e.apiCalls()))
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

// releasedAPIJS pushes the api-js release and returns it with its check run.
func releasedAPIJS(t *testing.T, e *env) (string, fakegithub.CheckRun) {
	t.Helper()
	release, err := e.repo.ReleaseV1(e.ctx, apiJS, "master-26a4b87")
	if err != nil {
		t.Fatal(err)
	}
	return release, e.rollbackRun(t, e.repo.Repo, release)
}

func TestSecondClickAndRedeliveryReportTheSamePullRequest(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	first := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if _, err := e.GitHub.Redeliver(e.ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if prs := e.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("want 1 pull request after three requests, got %d", len(prs))
	}
	if b := rollbackBranches(e.repo.Repo); len(b) != 1 {
		t.Fatalf("want 1 rollback branch, got %v", b)
	}
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "#1 is already open") {
		t.Errorf("a repeated click reports %q, want the existing pull request", final.Output.Title)
	}
}

func TestConcurrentClicksOpenOnePullRequest(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	const clicks = 4
	var wg sync.WaitGroup
	status := make([]int, clicks)
	for i := range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, report.ActionRollback, sandbox.Human.Login)
			if err == nil {
				status[i] = d.StatusCode
			}
		}()
	}
	wg.Wait()
	for i, s := range status {
		if s != 200 {
			t.Errorf("click %d answered %d", i, s)
		}
	}
	if prs := e.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("want 1 pull request after %d simultaneous clicks, got %d", clicks, len(prs))
	}
	if b := rollbackBranches(e.repo.Repo); len(b) != 1 {
		t.Fatalf("want 1 rollback branch, got %v", b)
	}
}

func TestReadOnlyUserIsRefused(t *testing.T) {
	e := start(t)
	e.repo.SetPermission("bob", "read")
	_, run := releasedAPIJS(t, e)
	d := click(t, e, run, report.ActionRollback, "bob")
	if d.StatusCode != 200 {
		t.Fatalf("a refusal is not a failed delivery: %d", d.StatusCode)
	}
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "no permission") || !strings.Contains(final.Output.Summary, "bob") {
		t.Errorf("check run = %+v", final.Output)
	}
	if len(e.repo.PullRequests()) != 0 || len(rollbackBranches(e.repo.Repo)) != 0 {
		t.Error("something was created for a read-only user")
	}
}

func TestConflictIsRefusedWithFilesAndHunks(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	// A person edits the very line the release changed.
	if _, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Pin api-js", func(s string) string {
		return strings.Replace(s, "newTag: master-26a4b87", "newTag: pinned-by-hand", 1)
	}); err != nil {
		t.Fatal(err)
	}
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "conflict") {
		t.Fatalf("title %q, want a conflict", final.Output.Title)
	}
	for _, want := range []string{sandbox.KustomizationPath, "pinned-by-hand", "master-26a4b87", "master-f01225d"} {
		if !strings.Contains(final.Output.Summary, want) {
			t.Errorf("conflict report lacks %q:\n%s", want, final.Output.Summary)
		}
	}
	if len(e.repo.PullRequests()) != 0 || len(rollbackBranches(e.repo.Repo)) != 0 {
		t.Error("something was created for a conflicting revert")
	}
}

func TestNothingToRevertWhenUndoneByHand(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	if _, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Go back to the old api-js", func(s string) string {
		return strings.Replace(s, "newTag: master-26a4b87", "newTag: master-f01225d", 1)
	}); err != nil {
		t.Fatal(err)
	}
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "nothing to revert") {
		t.Fatalf("check run = %+v", final.Output)
	}
	if len(e.repo.PullRequests()) != 0 || len(rollbackBranches(e.repo.Repo)) != 0 {
		t.Error("something was created with nothing to revert")
	}
}

func TestCommitNoLongerOnTheDefaultBranchIsRefused(t *testing.T) {
	e := start(t)
	before, _ := e.repo.Ref("heads/main")
	_, run := releasedAPIJS(t, e)
	// Someone force-pushes main back, dropping the release.
	if _, err := e.repo.PushTo(e.ctx, "main", before); err != nil {
		t.Fatal(err)
	}
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "not on the branch") {
		t.Fatalf("check run = %+v", final.Output)
	}
	if len(e.repo.PullRequests()) != 0 {
		t.Error("a pull request was opened for a commit that is not on main")
	}
}

func TestHeadMovedSinceThePush(t *testing.T) {
	cases := map[string]struct {
		edit func(e *env) error
		// want is the kustomization the rollback branch must hold.
		want func(head string) string
	}{
		"unrelated file": {
			edit: func(e *env) error {
				_, err := e.repo.EditByHand(e.ctx, "README.md", "Document the deploy", func(s string) string { return s + "More.\n" })
				return err
			},
			want: func(head string) string { return strings.Replace(head, "master-26a4b87", "master-f01225d", 1) },
		},
		"same file, other lines": {
			edit: func(e *env) error {
				_, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Add a resource", func(s string) string {
					return strings.Replace(s, "resources:\n", "resources:\n- namespace.yaml\n", 1)
				})
				return err
			},
			want: func(head string) string { return strings.Replace(head, "master-26a4b87", "master-f01225d", 1) },
		},
		"same file, another image released since": {
			edit: func(e *env) error {
				_, err := e.repo.ReleaseV1(e.ctx, "gcr.io/track-compliance/api", "master-5e6f7a8")
				return err
			},
			want: func(head string) string { return strings.Replace(head, "master-26a4b87", "master-f01225d", 1) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			release, run := releasedAPIJS(t, e)
			if err := tc.edit(e); err != nil {
				t.Fatal(err)
			}
			head, _ := e.repo.Ref("heads/main")
			click(t, e, run, report.ActionRollback, sandbox.Human.Login)
			prs := e.repo.PullRequests()
			if len(prs) != 1 {
				final, _ := e.repo.CheckRun(run.ID)
				t.Fatalf("want a pull request, check run says %+v", final.Output)
			}
			commit, err := e.repo.CommitInfo(prs[0].HeadSHA)
			if err != nil {
				t.Fatal(err)
			}
			if len(commit.Parents) != 1 || commit.Parents[0] != head {
				t.Errorf("the revert's parent is %v, want the head %s", commit.Parents, head)
			}
			headFile, _ := e.repo.ReadFile(head, sandbox.KustomizationPath)
			got, _ := e.repo.ReadFile(prs[0].HeadSHA, sandbox.KustomizationPath)
			if want := tc.want(headFile); got != want {
				t.Errorf("kustomization on the branch:\n%s\nwant:\n%s", got, want)
			}
			same := changedPaths(t, e.repo.Repo, head, prs[0].HeadSHA)
			if len(same) != 1 || same[0] != sandbox.KustomizationPath {
				t.Errorf("the revert changed %v, want only %s (release %s)", same, sandbox.KustomizationPath, release[:7])
			}
		})
	}
}

func TestGitHubFailureIsVisibleAndARetryCompletes(t *testing.T) {
	e := start(t)
	_, run := releasedAPIJS(t, e)
	// The branch is created, then GitHub fails to open the pull request on
	// every attempt: a crash between the two steps looks the same.
	e.GitHub.FailNext("POST", "/repos/{owner}/{repo}/pulls", 502, githubapi.DefaultMaxAttempts)
	d := click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if d.StatusCode < 500 {
		t.Errorf("a GitHub failure answered %d; the delivery must fail so it can be redelivered", d.StatusCode)
	}
	failed, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(failed.Output.Title, "failed") {
		t.Errorf("check run after the failure = %+v", failed.Output)
	}
	if b := rollbackBranches(e.repo.Repo); len(b) != 1 {
		t.Fatalf("want the branch left over, got %v", b)
	}

	if _, err := e.GitHub.Redeliver(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if prs := e.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("the retry did not complete the pull request: %d", len(prs))
	}
	if b := rollbackBranches(e.repo.Repo); len(b) != 1 {
		t.Fatalf("want the one branch reused, got %v", b)
	}
	done, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(done.Output.Title, "#1") {
		t.Errorf("check run after the retry = %+v", done.Output)
	}
}

func TestBranchOfSomeoneElseIsNotHijacked(t *testing.T) {
	e := start(t)
	release, run := releasedAPIJS(t, e)
	// A person already made a branch of that name for something else.
	if err := e.repo.SetRef("refs/heads/rollback-"+release[:7], release); err != nil {
		t.Fatal(err)
	}
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "branch taken") {
		t.Fatalf("check run = %+v", final.Output)
	}
	if len(e.repo.PullRequests()) != 0 {
		t.Error("a pull request was opened from someone else's branch")
	}
}
