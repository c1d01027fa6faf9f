package handlers_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// Contexts as Flux's notification-controller writes them: the Kustomization's
// kind and name, lower-cased, and the first part of the Provider's UID, which
// tells clusters apart.
const (
	fluxCluster1 = "kustomization/apps/1a2b3c4d"
	fluxCluster2 = "kustomization/apps/9f8e7d6c"
	fluxCluster3 = "kustomization/apps/5e6f7a8b"
)

// fluxReports posts a status on sha as Flux's github Provider does (failure
// for an error event, success for an info event; the description is the
// event's reason, split and lower-cased) and checks that the app accepted
// the delivery.
func fluxReports(t *testing.T, e *env, sha, context, state string) {
	t.Helper()
	description := map[string]string{"failure": "health check failed", "success": "reconciliation succeeded"}[state]
	pushDelivered(t)(e.repo.PostStatus(e.ctx, sha, fakegithub.StatusSpec{
		State: state, Context: context, Description: description, Creator: "flux-status-bot",
	}))
}

// GitHub's clock stands still, so that the same failure reported again
// carries the same time.
func TestFluxFailureWarnsOnTheReleaseUntilASuccess(t *testing.T) {
	stopped := time.Now()
	e := startAt(t, func() time.Time { return stopped })
	parent, _ := e.repo.Ref("heads/main")
	fluxReports(t, e, parent, fluxCluster1, "success")
	release, before := releasedAPIJS(t, e)

	fluxReports(t, e, release, fluxCluster1, "failure")
	run := e.rollbackRun(t, e.repo.Repo, release)
	if run.Output.Title != "Flux reports "+fluxCluster1+" failing since this release" {
		t.Errorf("title = %q", run.Output.Title)
	}
	link := "https://github.com/acme/deploy/commit/" + release
	for _, want := range []string{"`" + fluxCluster1 + "`", "health check failed", " UTC", link, "**failing** since this release", before.Output.Summary} {
		if !strings.Contains(run.Output.Summary, want) {
			t.Errorf("the summary does not show %q:\n%s", want, run.Output.Summary)
		}
	}
	if !slices.Equal(run.Actions, before.Actions) || run.Conclusion != "neutral" || run.Status != "completed" {
		t.Errorf("buttons %+v, %s %s; want the Roll back button kept", run.Actions, run.Status, run.Conclusion)
	}
	// The same failure again changes nothing.
	e.GitHub.ResetRequests()
	fluxReports(t, e, release, fluxCluster1, "failure")
	for _, r := range e.apiCalls() {
		if r.Method == "PATCH" {
			t.Errorf("a repeated failure updated the check run: %s %s", r.Method, r.Path)
		}
	}

	fluxReports(t, e, release, fluxCluster1, "success")
	run = e.rollbackRun(t, e.repo.Repo, release)
	if run.Output.Title != before.Output.Title || run.Output.Summary != before.Output.Summary || !slices.Equal(run.Actions, before.Actions) {
		t.Errorf("after the success the check run shows\n%q\n%s\nwant it as before:\n%q\n%s", run.Output.Title, run.Output.Summary, before.Output.Title, before.Output.Summary)
	}
	if len(e.repo.PullRequests()) != 0 {
		t.Errorf("on_failure: warn opened %+v", e.repo.PullRequests())
	}
}

func TestFluxFailureOnALaterCommitBlamesTheReleasesSinceTheLastSuccess(t *testing.T) {
	e := start(t)
	earlier, err := e.repo.ReleaseV1(e.ctx, apiJS, "master-aaaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	fluxReports(t, e, earlier, fluxCluster1, "success")
	release, _ := releasedAPIJS(t, e)
	human, err := e.repo.EditByHand(e.ctx, "README.md", "Document the deploy", func(string) string { return "# deploy\n" })
	if err != nil {
		t.Fatal(err)
	}
	fluxReports(t, e, human, fluxCluster1, "failure")

	if run := e.rollbackRun(t, e.repo.Repo, release); !strings.HasPrefix(run.Output.Title, "Flux reports "+fluxCluster1+" failing") ||
		!strings.Contains(run.Output.Summary, "https://github.com/acme/deploy/commit/"+human) {
		t.Errorf("the release before the failed commit is not blamed:\n%s\n%s", run.Output.Title, run.Output.Summary)
	}
	if run := e.rollbackRun(t, e.repo.Repo, earlier); strings.Contains(run.Output.Title, "Flux") {
		t.Errorf("the release Flux reported healthy is blamed: %s", run.Output.Title)
	}
	if runs := rollbackRuns(e.repo.Repo, human); len(runs) != 0 {
		t.Errorf("the person's commit got a check run: %+v", runs)
	}
}

func TestFluxTwoClustersOneFailing(t *testing.T) {
	e := start(t)
	parent, _ := e.repo.Ref("heads/main")
	fluxReports(t, e, parent, fluxCluster1, "success")
	fluxReports(t, e, parent, fluxCluster2, "success")
	release, before := releasedAPIJS(t, e)
	fluxReports(t, e, release, fluxCluster2, "success")
	fluxReports(t, e, release, fluxCluster1, "failure")

	run := e.rollbackRun(t, e.repo.Repo, release)
	if run.Output.Title != "Flux reports "+fluxCluster1+" failing since this release" {
		t.Errorf("title = %q", run.Output.Title)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(run.Output.Summary, "\n") {
		for _, c := range []string{fluxCluster1, fluxCluster2} {
			if strings.HasPrefix(line, "| `"+c+"` |") {
				rows[c] = line
			}
		}
	}
	if !strings.Contains(rows[fluxCluster1], "**failing** since this release") || !strings.Contains(rows[fluxCluster2], "| succeeded | reconciliation succeeded |") {
		t.Errorf("each cluster's latest state is not listed:\n%s", run.Output.Summary)
	}

	// The second cluster failing too is counted; the first recovering leaves
	// the second's warning.
	fluxReports(t, e, release, fluxCluster2, "failure")
	if run := e.rollbackRun(t, e.repo.Repo, release); run.Output.Title != "Flux reports 2 Kustomizations failing since this release" {
		t.Errorf("title = %q", run.Output.Title)
	}
	fluxReports(t, e, release, fluxCluster1, "success")
	if run := e.rollbackRun(t, e.repo.Repo, release); run.Output.Title != "Flux reports "+fluxCluster2+" failing since this release" {
		t.Errorf("title = %q", run.Output.Title)
	}
	fluxReports(t, e, release, fluxCluster2, "success")
	if run := e.rollbackRun(t, e.repo.Repo, release); run.Output.Title != before.Output.Title || run.Output.Summary != before.Output.Summary {
		t.Errorf("not cleared: %q\n%s", run.Output.Title, run.Output.Summary)
	}
}

func openPullRequestOnFailure(c *server.Config) {
	c.Rollback.Defaults.OnFailure = repoconfig.OnFailureOpenPullRequest
	c.Rollback.Defaults.PullRequest.Reviewers = []string{"octocat"}
}

func TestFluxFailureOpensOneRollbackPullRequest(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	tracker, err := e.AddFluxV2Repo(sandbox.InstallationID, "acme", "tracker")
	if err != nil {
		t.Fatal(err)
	}
	e.repo = tracker
	e.repo.SetPermission("octocat", "write")
	e.repo.SetPermission(sandbox.FluxV2.Login, "write") // the account Flux's image automation commits as
	parent, _ := e.repo.Ref("heads/main")
	fluxReports(t, e, parent, fluxCluster1, "success")
	release, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, badTag)
	if err != nil {
		t.Fatal(err)
	}
	if runs := rollbackRuns(e.repo.Repo, release); len(runs) != 1 {
		t.Fatalf("the release has no Rollback check run: %+v", runs)
	}

	// Three clusters report the same commit failing.
	for _, c := range []string{fluxCluster1, fluxCluster2, fluxCluster3} {
		fluxReports(t, e, release, c, "failure")
	}

	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("want one pull request, got %+v", prs)
	}
	pr := prs[0]
	if pr.Head != "rollback-"+release[:7] || pr.Base != "main" || pr.State != "open" || pr.Merged || pr.User != sandbox.AppSlug+"[bot]" {
		t.Errorf("pull request %+v", pr)
	}
	if !strings.HasPrefix(pr.Body, "> **Flux reports `"+fluxCluster1+"` failing since this release**: health check failed") ||
		!strings.Contains(pr.Body, "@"+sandbox.AppSlug+"[bot]") {
		t.Errorf("the body does not quote the failure:\n%s", pr.Body)
	}
	slices.Sort(pr.RequestedReviewers)
	if want := []string{sandbox.FluxV2.Login, "octocat"}; !slices.Equal(pr.RequestedReviewers, want) {
		t.Errorf("reviewers = %v, want the release's committer and the configured reviewer %v", pr.RequestedReviewers, want)
	}

	// With the hold, as a click makes it: the exact revert, then the commit
	// that holds the image policy's markers.
	if !slices.Contains(pr.Labels, rollback.HoldLabel) {
		t.Errorf("the pull request is not labelled %s: %v", rollback.HoldLabel, pr.Labels)
	}
	holdCommit, err := e.repo.CommitInfo(pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(holdCommit.Message, "Hold Flux image automation for api-js\n") || len(holdCommit.Parents) != 1 {
		t.Fatalf("the head commit is not the hold: %q", holdCommit.Message)
	}
	revertCommit, err := e.repo.CommitInfo(holdCommit.Parents[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(revertCommit.Message, "This reverts commit "+release+".") || revertCommit.Parents[0] != release {
		t.Errorf("the first commit is not the revert: %q", revertCommit.Message)
	}
	if got, want := revertCommit.Tree, gitRevertTree(t, e.repo.Repo, parent, release, release); got != want {
		t.Errorf("the revert's tree is %s, git revert gives %s", got, want)
	}

	run := e.rollbackRun(t, e.repo.Repo, release)
	if !strings.HasPrefix(run.Output.Title, "Flux reports 3 Kustomizations failing") || !strings.Contains(run.Output.Summary, "#1") {
		t.Errorf("check run:\n%s\n%s", run.Output.Title, run.Output.Summary)
	}
	if main, _ := e.repo.Ref("heads/main"); main != release {
		t.Errorf("main moved to %s: the app must never merge", main)
	}
}

func TestFluxFailureOpensNothingAfterAPersonRolledBack(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	e.repo.SetPermission("octocat", "write")
	release, run := releasedAPIJS(t, e)
	pushDelivered(t)(click(t, e, run, report.ActionRollback, sandbox.Human.Login), nil)
	if _, _, err := e.repo.MergePullRequest(e.ctx, 1, sandbox.Human.Login, fakegithub.MergeMethodMerge); err != nil {
		t.Fatal(err)
	}

	fluxReports(t, e, release, fluxCluster1, "failure")
	prs := e.repo.PullRequests()
	if len(prs) != 1 || !prs[0].Merged {
		t.Fatalf("want only the person's merged pull request, got %+v", prs)
	}
	if run := e.rollbackRun(t, e.repo.Repo, release); !strings.HasPrefix(run.Output.Title, "Flux reports") {
		t.Errorf("the failure is not shown: %q", run.Output.Title)
	}
}

func TestStatusFromCIIsIgnoredWithoutAGitHubCall(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	release, before := releasedAPIJS(t, e)
	e.GitHub.ResetRequests()
	for _, ctx := range []string{"ci/circleci: build", "continuous-integration/jenkins/branch", "default", "helmrelease/podinfo/1a2b3c4d"} {
		for _, state := range []string{"pending", "failure", "error", "success"} {
			pushDelivered(t)(e.repo.PostStatus(e.ctx, release, fakegithub.StatusSpec{State: state, Context: ctx, Creator: "ci-bot"}))
		}
	}
	if calls := e.apiCalls(); len(calls) != 0 {
		t.Errorf("statuses of other contexts made %d GitHub calls:\n%s", len(calls), routes(calls))
	}
	if run := e.rollbackRun(t, e.repo.Repo, release); run.Output != before.Output {
		t.Errorf("the check run changed: %+v", run.Output)
	}
}

// TestFluxStatusGitHubCalls holds the cost of a Flux failure on a release
// right after a success: the configuration (two reads without a file), the
// branch's commits, the statuses of two commits, the release's check run,
// and its update. GitHub's clock stands still, so that the same failure
// reported again carries the same time: a report in a later second is
// rightly shown, with its time, by one more update.
func TestFluxStatusGitHubCalls(t *testing.T) {
	stopped := time.Now()
	e := startAt(t, func() time.Time { return stopped })
	parent, _ := e.repo.Ref("heads/main")
	fluxReports(t, e, parent, fluxCluster1, "success")
	release, _ := releasedAPIJS(t, e)
	e.GitHub.ResetRequests()
	fluxReports(t, e, release, fluxCluster1, "failure")
	calls := e.apiCalls()
	if len(calls) != 7 {
		t.Errorf("a Flux failure took %d GitHub calls, want 7:\n%s", len(calls), routes(calls))
	}
	if strings.Count(routes(calls), "/status?") != 2 {
		t.Errorf("read the statuses of other than two commits:\n%s", routes(calls))
	}
	// Reported again: the check run is up to date and is not written.
	e.GitHub.ResetRequests()
	fluxReports(t, e, release, fluxCluster1, "failure")
	if calls := e.apiCalls(); len(calls) != 6 {
		t.Errorf("the same failure again took %d GitHub calls, want 6:\n%s", len(calls), routes(calls))
	}
}

// TestFluxConcurrentFailuresOpenOnePullRequest has three clusters report the
// release failing at the same moment: one pull request, and a check run that
// names all three.
func TestFluxConcurrentFailuresOpenOnePullRequest(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	e.repo.SetPermission("octocat", "write")
	release, _ := releasedAPIJS(t, e)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, c := range []string{fluxCluster1, fluxCluster2, fluxCluster3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.repo.PostStatus(e.ctx, release, fakegithub.StatusSpec{State: "failure", Context: c, Description: "health check failed"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if prs := e.repo.PullRequests(); len(prs) != 1 || prs[0].Head != "rollback-"+release[:7] {
		t.Fatalf("want one rollback pull request, got %+v", prs)
	}
	// Whichever delivery wrote last read every status GitHub held by then;
	// one more status from Flux settles it if they raced.
	fluxReports(t, e, release, fluxCluster1, "failure")
	if run := e.rollbackRun(t, e.repo.Repo, release); !strings.HasPrefix(run.Output.Title, "Flux reports 3 Kustomizations failing") {
		t.Errorf("title = %q", run.Output.Title)
	}
}

// TestFluxStatusBranches: a commit on an unwatched branch only is left
// alone; one that GitHub lists with ten other branches (its most) but not
// the default branch is still found there.
func TestFluxStatusBranches(t *testing.T) {
	e := start(t)
	release, before := releasedAPIJS(t, e)
	feature := pushCommit(t, e.repo.Repo, "feature", sandbox.Human, "try something", map[string]*fakegithub.File{"notes.txt": {Content: "x\n"}})
	e.GitHub.ResetRequests()
	fluxReports(t, e, feature, fluxCluster1, "failure")
	for _, r := range e.apiCalls() {
		if !strings.Contains(r.Route, "contents") && r.Route != "GET /repos/{owner}/{repo}" {
			t.Errorf("a status on an unwatched branch made %s", r.Path)
		}
	}

	for i := range 10 {
		if err := e.repo.SetRef("refs/heads/a"+string(rune('0'+i)), release); err != nil {
			t.Fatal(err)
		}
	}
	fluxReports(t, e, release, fluxCluster1, "failure")
	if run := e.rollbackRun(t, e.repo.Repo, release); run.Output.Title == before.Output.Title {
		t.Errorf("the release on the default branch, left out of the webhook's branches, is not warned: %q", run.Output.Title)
	}
}

// TestFluxFailureAfterARevertByHand: a person reverted the release with a
// commit of their own; the failure Flux reported on the release opens no
// pull request, and the check run says there is nothing left to revert.
func TestFluxFailureAfterARevertByHand(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	release, _ := releasedAPIJS(t, e)
	if _, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Put api-js back", pushSetTags(map[string]string{apiJS: "master-f01225d"})); err != nil {
		t.Fatal(err)
	}
	fluxReports(t, e, release, fluxCluster1, "failure")
	if prs := e.repo.PullRequests(); len(prs) != 0 {
		t.Fatalf("opened %+v", prs)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	if !strings.HasPrefix(run.Output.Title, "Flux reports "+fluxCluster1) || !strings.Contains(run.Output.Summary, "Nothing was created") {
		t.Errorf("check run:\n%s\n%s", run.Output.Title, run.Output.Summary)
	}
}

// TestFluxFailureRedelivered: GitHub's redelivery of the failure that opened
// the pull request finds it and opens no other.
func TestFluxFailureRedelivered(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	e.repo.SetPermission("octocat", "write")
	release, _ := releasedAPIJS(t, e)
	d := pushDelivered(t)(e.repo.PostStatus(e.ctx, release, fakegithub.StatusSpec{State: "failure", Context: fluxCluster1, Description: "health check failed"}))
	pushDelivered(t)(e.GitHub.Redeliver(e.ctx, d.ID))
	if prs := e.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("want one pull request, got %+v", prs)
	}
	if run := e.rollbackRun(t, e.repo.Repo, release); !strings.Contains(run.Output.Summary, "#1") || !strings.HasPrefix(run.Output.Title, "Flux reports") {
		t.Errorf("check run:\n%s\n%s", run.Output.Title, run.Output.Summary)
	}
}

// A release Flux also reformatted is recognised by reading the file's two
// versions; the pull request opened on Flux's failure must recognise it the
// same way a click does.
func TestFluxFailureOpensThePullRequestOfAReleaseFluxReformatted(t *testing.T) {
	e := start(t, openPullRequestOnFailure)
	e.repo.SetPermission("octocat", "write")
	repo := e.repo.Repo
	pushCommit(t, repo, "main", sandbox.Human, "Name Flux's identity",
		map[string]*fakegithub.File{".github/flux-rollback.yml": {Content: "version: 1\ndetection:\n  authors: [fluxcdbot]\n"}})
	pushAnnounceBase(t, e)
	reformatted := pushCommit(t, repo, "main", sandbox.FluxV2, "Update from image update automation\n",
		pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
			return pushReindent(pushWebImage.ReplaceAllString(s, "${1}1.5.0${3}"))
		}))
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	e.rollbackRun(t, repo, reformatted)

	fluxReports(t, e, reformatted, fluxCluster1, "failure")
	prs := e.repo.PullRequests()
	if len(prs) != 1 || prs[0].Head != "rollback-"+reformatted[:7] {
		t.Fatalf("want the release's rollback pull request, got %+v", prs)
	}
	if run := e.rollbackRun(t, repo, reformatted); !strings.Contains(run.Output.Summary, "#1") {
		t.Errorf("check run:\n%s\n%s", run.Output.Title, run.Output.Summary)
	}
}
