package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// The tests of this file play "when the exact revert no longer applies,
// restore the image to the version before the release" through the real
// server and the embedded GitHub: a release of api-js that two later
// releases superseded, its refused Roll back, the Restore button, and the
// comment commands.

const restoreAPIJS = "gcr.io/track-compliance/api-js"

// restoreHistory is a sample repository where api-js was released to
// master-26a4b87 (the release), then to master-5b6c7d8 and master-9c1e2f0,
// with a release of another image and a person's edits in between.
type restoreHistory struct {
	*env
	release, later1, later2 string
}

func startRestoreHistory(t *testing.T, configure ...func(*server.Config)) *restoreHistory {
	t.Helper()
	e := start(t, configure...)
	h := &restoreHistory{env: e}
	var err error
	must := func(sha string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	h.release = must(e.repo.ReleaseV1(e.ctx, restoreAPIJS, "master-26a4b87"))
	must(e.repo.EditByHand(e.ctx, "README.md", "Document the deploy", func(s string) string { return s + "More.\n" }))
	h.later1 = must(e.repo.ReleaseV1(e.ctx, restoreAPIJS, "master-5b6c7d8"))
	must(e.repo.ReleaseV1(e.ctx, "gcr.io/track-compliance/api", "master-5e6f7a8"))
	must(e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Add a resource", func(s string) string {
		return strings.Replace(s, "resources:\n", "resources:\n- namespace.yaml\n", 1)
	}))
	h.later2, err = e.repo.ReleaseV1(e.ctx, restoreAPIJS, "master-9c1e2f0")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// restoreRendered drops the backticks of inline code spans, so that a
// sentence can be compared as GitHub shows it.
func restoreRendered(markdown string) string {
	return strings.ReplaceAll(markdown, "`", "")
}

// findAction returns the check run's button with that identifier.
func findAction(run fakegithub.CheckRun, identifier string) (fakegithub.CheckRunAction, bool) {
	for _, a := range run.Actions {
		if a.Identifier == identifier {
			return a, true
		}
	}
	return fakegithub.CheckRunAction{}, false
}

func TestRollbackOfASupersededReleaseExplainsInImageTermsAndOffersRestore(t *testing.T) {
	h := startRestoreHistory(t)
	run := h.rollbackRun(t, h.repo.Repo, h.release)
	if d := click(t, h.env, run, report.ActionRollback, sandbox.Human.Login); d.StatusCode != 200 {
		t.Fatalf("a refusal is not a failed delivery: %d %s", d.StatusCode, d.ResponseBody)
	}
	final, _ := h.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "refused") {
		t.Fatalf("title %q, want a refusal", final.Output.Title)
	}
	summary := final.Output.Summary
	want := fmt.Sprintf("api-js is now at master-9c1e2f0, released in %s (2 releases after this one); reverting this commit alone no longer applies.", h.later2[:7])
	if !strings.Contains(restoreRendered(summary), want) {
		t.Errorf("summary lacks %q:\n%s", want, summary)
	}
	// The later releases are listed, oldest first, with their dates.
	c1, err := h.repo.CommitInfo(h.later1)
	if err != nil {
		t.Fatal(err)
	}
	row1 := fmt.Sprintf("| %s | master-5b6c7d8 | %s |", h.later1[:7], c1.Committer.When.UTC().Format("2006-01-02T15:04:05Z"))
	row2 := fmt.Sprintf("| %s | master-9c1e2f0 |", h.later2[:7])
	i1, i2 := strings.Index(summary, row1), strings.Index(summary, row2)
	if i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("summary does not list %q then %q:\n%s", row1, row2, summary)
	}
	// The other image's release in between is not a later release of api-js.
	if strings.Contains(summary, "master-5e6f7a8") {
		t.Errorf("summary lists the release of another image:\n%s", summary)
	}

	restore, ok := findAction(final, report.ActionRestore)
	if !ok {
		t.Fatalf("no Restore button: %+v", final.Actions)
	}
	if restore.Label != "Restore" {
		t.Errorf("Restore button label %q", restore.Label)
	}
	if n := utf8.RuneCountInString(restore.Label); n > 20 {
		t.Errorf("label %q has %d characters, GitHub allows 20", restore.Label, n)
	}
	if n := utf8.RuneCountInString(restore.Description); n == 0 || n > 40 {
		t.Errorf("description %q has %d characters, GitHub allows 1 to 40", restore.Description, n)
	}
	if _, ok := findAction(final, report.ActionRollback); !ok {
		t.Errorf("the Roll back button is gone: %+v", final.Actions)
	}
	if len(h.repo.PullRequests()) != 0 || len(rollbackBranches(h.repo.Repo)) != 0 {
		t.Error("a refused rollback created something")
	}
}

func TestRestoreClickSetsOnlyTheReleasedImageBack(t *testing.T) {
	h := startRestoreHistory(t)
	run := h.rollbackRun(t, h.repo.Repo, h.release)
	click(t, h.env, run, report.ActionRollback, sandbox.Human.Login)
	refused, _ := h.repo.CheckRun(run.ID)
	head, _ := h.repo.Ref("heads/main")

	d := click(t, h.env, refused, report.ActionRestore, sandbox.Human.Login)
	if d.StatusCode != 200 {
		t.Fatalf("restore delivery answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	prs := h.repo.PullRequests()
	if len(prs) != 1 {
		final, _ := h.repo.CheckRun(run.ID)
		t.Fatalf("want 1 pull request, got %d; check run: %+v", len(prs), final.Output)
	}
	pr := prs[0]
	if pr.Base != "main" || !strings.HasPrefix(pr.Head, "rollback-") {
		t.Errorf("pull request %s -> %s", pr.Head, pr.Base)
	}

	// The restore commit sits on the current head and changes the api-js
	// tag, and only it, back to its value before the release.
	commit, err := h.repo.CommitInfo(pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if len(commit.Parents) != 1 || commit.Parents[0] != head {
		t.Errorf("restore commit parents %v, want the head %s", commit.Parents, head)
	}
	if paths := changedPaths(t, h.repo.Repo, head, pr.HeadSHA); len(paths) != 1 || paths[0] != sandbox.KustomizationPath {
		t.Errorf("the restore changed %v, want only %s", paths, sandbox.KustomizationPath)
	}
	before, _ := h.repo.ReadFile(head, sandbox.KustomizationPath)
	after, _ := h.repo.ReadFile(pr.HeadSHA, sandbox.KustomizationPath)
	if want := strings.Replace(before, "newTag: master-9c1e2f0", "newTag: master-f01225d", 1); after != want {
		t.Errorf("kustomization after the restore:\n%s\nwant:\n%s", after, want)
	}

	// The message names what it does, the releases it undoes, the commit it
	// restores from, and who asked.
	msg := commit.Message
	if !strings.HasPrefix(msg, "Roll back api-js to master-f01225d\n\n") {
		t.Errorf("message subject: %q", msg)
	}
	for _, sha := range []string{h.release, h.later1, h.later2} {
		if !strings.Contains(msg, sha[:7]) {
			t.Errorf("message does not list release %s:\n%s", sha[:7], msg)
		}
	}
	if want := "This restores the image references changed by commit " + h.release + ".\n\nRollback-requested-by: @alice\n"; !strings.HasSuffix(msg, want) {
		t.Errorf("message ends %q, want it to end with %q", msg, want)
	}
	// The pull request explains it the same way.
	for _, want := range []string{"api-js", "master-f01225d", h.release[:7], h.later1[:7], h.later2[:7], "@alice", pr.Head} {
		if !strings.Contains(pr.Title+"\n"+pr.Body, want) {
			t.Errorf("pull request does not mention %q:\n%s\n%s", want, pr.Title, pr.Body)
		}
	}
	if pr.Title != "Roll back api-js to master-f01225d" {
		t.Errorf("pull request title %q", pr.Title)
	}
	final, _ := h.repo.CheckRun(run.ID)
	if final.Status != "completed" || !strings.Contains(final.Output.Title, fmt.Sprintf("#%d", pr.Number)) {
		t.Errorf("check run after the restore = %+v", final.Output)
	}
	if main, _ := h.repo.Ref("heads/main"); main != head {
		t.Errorf("main moved to %s", main)
	}
}

func TestRestoreIsIdempotentAcrossClicksAndRedeliveries(t *testing.T) {
	h := startRestoreHistory(t)
	run := h.rollbackRun(t, h.repo.Repo, h.release)
	click(t, h.env, run, report.ActionRollback, sandbox.Human.Login)
	refused, _ := h.repo.CheckRun(run.ID)

	first := click(t, h.env, refused, report.ActionRestore, sandbox.Human.Login)
	// GitHub redelivers the click, twice.
	for range 2 {
		if _, err := h.GitHub.Redeliver(h.ctx, first.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The user clicks again later: Roll back is refused as before, and its
	// Restore finds the pull request already open.
	done, _ := h.repo.CheckRun(run.ID)
	click(t, h.env, done, report.ActionRollback, sandbox.Human.Login)
	refusedAgain, _ := h.repo.CheckRun(run.ID)
	click(t, h.env, refusedAgain, report.ActionRestore, sandbox.Human.Login)

	if prs := h.repo.PullRequests(); len(prs) != 1 {
		t.Fatalf("want 1 pull request after four requests, got %d", len(prs))
	}
	if b := rollbackBranches(h.repo.Repo); len(b) != 1 {
		t.Fatalf("want 1 branch, got %v", b)
	}
	final, _ := h.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "is already open") {
		t.Errorf("a repeated click reports %q, want the existing pull request", final.Output.Title)
	}
}

func TestRestoreAndRollbackOpenSeparatePullRequests(t *testing.T) {
	// The exact revert of the release and the restore of its image are two
	// rollbacks: each has its own branch and pull request.
	e := start(t)
	release, err := e.repo.ReleaseV2(e.ctx, "1.4.3")
	if err != nil {
		t.Fatal(err)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	if n := len(e.repo.PullRequests()); n != 1 {
		t.Fatalf("Roll back opened %d pull requests", n)
	}
	restoreComment(t, e, "/rollback web to 1.4.2")
	prs := e.repo.PullRequests()
	if len(prs) != 2 || prs[0].Head == prs[1].Head {
		t.Fatalf("want two pull requests on two branches, got %+v", prs)
	}
	if b := rollbackBranches(e.repo.Repo); len(b) != 2 {
		t.Errorf("want 2 branches, got %v", b)
	}
}

func TestRestoreNeedsTheSamePermissionAsRollback(t *testing.T) {
	h := startRestoreHistory(t)
	h.repo.SetPermission("bob", "read")
	run := h.rollbackRun(t, h.repo.Repo, h.release)
	click(t, h.env, run, report.ActionRollback, sandbox.Human.Login)
	refused, _ := h.repo.CheckRun(run.ID)
	if d := click(t, h.env, refused, report.ActionRestore, "bob"); d.StatusCode != 200 {
		t.Fatalf("a refusal is not a failed delivery: %d", d.StatusCode)
	}
	final, _ := h.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "no permission") || !strings.Contains(final.Output.Summary, "bob") {
		t.Errorf("check run = %+v", final.Output)
	}
	if len(h.repo.PullRequests()) != 0 || len(rollbackBranches(h.repo.Repo)) != 0 {
		t.Error("something was created for a read-only user")
	}
}

// A click shows progress on its check run once it has run for
// rollback.progress_delay; a click that ends sooner shows its outcome alone.
func TestRestoreShowsProgressOnTheCheckRun(t *testing.T) {
	cases := map[string]struct {
		delay    time.Duration
		latency  time.Duration // how long GitHub takes to answer each request
		progress bool
	}{
		"at once":                       {delay: 0, progress: true},
		"a fast click":                  {delay: time.Hour, progress: false},
		"a click slower than the delay": {delay: 20 * time.Millisecond, latency: 30 * time.Millisecond, progress: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := startRestoreHistory(t, func(c *server.Config) { c.Rollback.ProgressDelay = tc.delay })
			run := h.rollbackRun(t, h.repo.Repo, h.release)
			click(t, h.env, run, report.ActionRollback, sandbox.Human.Login)
			refused, _ := h.repo.CheckRun(run.ID)
			h.GitHub.ResetRequests()
			h.GitHub.SetLatency(tc.latency)
			click(t, h.env, refused, report.ActionRestore, sandbox.Human.Login)
			var updates []string
			for _, r := range h.GitHub.Requests() {
				if r.Method == "PATCH" && strings.Contains(r.Path, "/check-runs/") {
					updates = append(updates, string(r.RequestBody))
				}
			}
			switch {
			case tc.progress && (len(updates) != 2 || !strings.Contains(updates[0], "in_progress") || !strings.Contains(updates[0], "Restoring")):
				t.Errorf("check run updates %q, want in_progress (Restoring) then the outcome", updates)
			case !tc.progress && len(updates) != 1:
				t.Errorf("check run updates %q, want the outcome alone", updates)
			}
			if final, _ := h.repo.CheckRun(run.ID); final.Status != "completed" || !strings.Contains(final.Output.Title, "opened") {
				t.Errorf("check run after the click = %+v", final.Output)
			}
		})
	}
}

func TestRestoreOfAFluxV2MarkerKeepsTheMarker(t *testing.T) {
	e := start(t)
	must := func(sha string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	release := must(e.repo.ReleaseV2(e.ctx, "1.4.3"))
	must(e.repo.EditByHand(e.ctx, sandbox.DeploymentPath, "Scale web", func(s string) string {
		return strings.Replace(s, "replicas: 2", "replicas: 3", 1)
	}))
	later := must(e.repo.ReleaseV2(e.ctx, "1.5.0"))
	run := e.rollbackRun(t, e.repo.Repo, release)
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	refused, _ := e.repo.CheckRun(run.ID)
	want := fmt.Sprintf("web is now at 1.5.0, released in %s (1 release after this one)", later[:7])
	if !strings.Contains(restoreRendered(refused.Output.Summary), want) {
		t.Fatalf("summary lacks %q:\n%s", want, refused.Output.Summary)
	}
	head, _ := e.repo.Ref("heads/main")
	click(t, e, refused, report.ActionRestore, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		final, _ := e.repo.CheckRun(run.ID)
		t.Fatalf("want 1 pull request, got %d: %+v", len(prs), final.Output)
	}
	restored := rollbackCommit(t, e.repo.Repo, prs[0])
	before, _ := e.repo.ReadFile(head, sandbox.DeploymentPath)
	after, _ := e.repo.ReadFile(restored, sandbox.DeploymentPath)
	if want := strings.Replace(before, "web:1.5.0 #", "web:1.4.2 #", 1); after != want {
		t.Errorf("deployment after the restore:\n%s\nwant:\n%s", after, want)
	}
	if !strings.Contains(after, "replicas: 3") {
		t.Error("the restore undid a person's edit")
	}
	if paths := changedPaths(t, e.repo.Repo, head, restored); len(paths) != 1 {
		t.Errorf("the restore changed %v", paths)
	}
	if restored == prs[0].HeadSHA || !strings.Contains(prs[0].Body, "Flux image automation is held") {
		t.Errorf("a Flux v2 restore does not hold the automation:\n%s", prs[0].Body)
	}
}

func TestRestoreRefusesWhereTheReferenceIsGone(t *testing.T) {
	cases := map[string]struct {
		edit func(e *env) error
		// where is what the refusal must name.
		where []string
	}{
		"marker removed": {
			edit: func(e *env) error {
				_, err := e.repo.EditByHand(e.ctx, sandbox.DeploymentPath, "Stop automating web", func(s string) string {
					return strings.Replace(s, ` # {"$imagepolicy": "flux-system:web"}`, "", 1)
				})
				return err
			},
			where: []string{sandbox.DeploymentPath, "flux-system:web"},
		},
		"file deleted": {
			edit: func(e *env) error {
				_, _, err := e.repo.CommitAndPush(e.ctx, "main", fakegithub.CommitSpec{
					Message: "Move web elsewhere", Author: sandbox.Human,
					Files: map[string]*fakegithub.File{sandbox.DeploymentPath: nil, "apps/web2/deployment.yaml": {Content: "kind: Deployment\n"}},
				})
				return err
			},
			where: []string{sandbox.DeploymentPath},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			release, err := e.repo.ReleaseV2(e.ctx, "1.4.3")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.repo.ReleaseV2(e.ctx, "1.5.0"); err != nil {
				t.Fatal(err)
			}
			run := e.rollbackRun(t, e.repo.Repo, release)
			click(t, e, run, report.ActionRollback, sandbox.Human.Login)
			refused, _ := e.repo.CheckRun(run.ID)
			if _, ok := findAction(refused, report.ActionRestore); !ok {
				t.Fatalf("no Restore button after the refusal: %+v", refused.Output)
			}
			if err := tc.edit(e); err != nil {
				t.Fatal(err)
			}
			click(t, e, refused, report.ActionRestore, sandbox.Human.Login)
			final, _ := e.repo.CheckRun(run.ID)
			if !strings.Contains(final.Output.Title, "refused") {
				t.Fatalf("check run = %+v", final.Output)
			}
			for _, want := range tc.where {
				if !strings.Contains(final.Output.Summary, want) {
					t.Errorf("refusal does not say %q:\n%s", want, final.Output.Summary)
				}
			}
			if len(e.repo.PullRequests()) != 0 || len(rollbackBranches(e.repo.Repo)) != 0 {
				t.Error("a refused restore created something")
			}
		})
	}
}

// restoreComment comments on a new issue and returns the app's reply.
func restoreComment(t *testing.T, e *env, body string) string {
	t.Helper()
	issue := e.repo.AddIssue("Roll back api-js")
	if _, d, err := e.repo.CommentOnIssue(e.ctx, issue, sandbox.Human.Login, body); err != nil {
		t.Fatalf("comment %q: %v (%+v)", body, err, d)
	}
	var replies []string
	for _, c := range e.repo.IssueComments(issue) {
		if c.User != sandbox.Human.Login {
			replies = append(replies, c.Body)
		}
	}
	if len(replies) != 1 {
		t.Fatalf("want 1 reply to %q, got %q", body, replies)
	}
	return replies[0]
}

func TestCommentRestoresAnImageToAnEarlierTag(t *testing.T) {
	h := startRestoreHistory(t)
	head, _ := h.repo.Ref("heads/main")
	reply := restoreComment(t, h.env, "/rollback api-js to master-5b6c7d8")
	prs := h.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("want 1 pull request, got %d; reply:\n%s", len(prs), reply)
	}
	if !strings.Contains(reply, fmt.Sprintf("#%d", prs[0].Number)) {
		t.Errorf("reply does not link the pull request:\n%s", reply)
	}
	before, _ := h.repo.ReadFile(head, sandbox.KustomizationPath)
	after, _ := h.repo.ReadFile(prs[0].HeadSHA, sandbox.KustomizationPath)
	if want := strings.Replace(before, "newTag: master-9c1e2f0", "newTag: master-5b6c7d8", 1); after != want {
		t.Errorf("kustomization after the restore:\n%s\nwant:\n%s", after, want)
	}
	if paths := changedPaths(t, h.repo.Repo, head, prs[0].HeadSHA); len(paths) != 1 {
		t.Errorf("the restore changed %v", paths)
	}
	commit, _ := h.repo.CommitInfo(prs[0].HeadSHA)
	if !strings.HasPrefix(commit.Message, "Roll back api-js to master-5b6c7d8\n") || !strings.HasSuffix(commit.Message, "Rollback-requested-by: @alice\n") {
		t.Errorf("message %q", commit.Message)
	}

	// The same command again answers with the same pull request.
	again := restoreComment(t, h.env, "/rollback api-js to master-5b6c7d8")
	if n := len(h.repo.PullRequests()); n != 1 {
		t.Errorf("a repeated command opened %d pull requests", n)
	}
	if !strings.Contains(again, fmt.Sprintf("#%d", prs[0].Number)) {
		t.Errorf("repeated command reply:\n%s", again)
	}
}

func TestCommentRestoreToATagNeverReleasedIsRefused(t *testing.T) {
	h := startRestoreHistory(t)
	reply := restoreComment(t, h.env, "/rollback api-js to master-0000000")
	for _, want := range []string{"master-0000000", "master-f01225d", "master-5b6c7d8"} {
		if !strings.Contains(reply, want) {
			t.Errorf("refusal does not mention %q:\n%s", want, reply)
		}
	}
	if len(h.repo.PullRequests()) != 0 || len(rollbackBranches(h.repo.Repo)) != 0 {
		t.Error("a restore to an unknown tag created something")
	}
}

func TestCommentRollbackOfASupersededReleaseNamesTheRestoreCommand(t *testing.T) {
	h := startRestoreHistory(t)
	reply := restoreComment(t, h.env, "/rollback "+h.release[:7])
	want := fmt.Sprintf("api-js is now at master-9c1e2f0, released in %s (2 releases after this one); reverting this commit alone no longer applies.", h.later2[:7])
	if !strings.Contains(restoreRendered(reply), want) {
		t.Errorf("reply lacks %q:\n%s", want, reply)
	}
	command := "/rollback " + restoreAPIJS + " to master-f01225d"
	if !strings.Contains(reply, command) {
		t.Fatalf("reply does not name %q:\n%s", command, reply)
	}
	if len(h.repo.PullRequests()) != 0 {
		t.Fatal("a refused rollback opened a pull request")
	}

	// The named command does what the reply promises.
	head, _ := h.repo.Ref("heads/main")
	restoreComment(t, h.env, command)
	prs := h.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("the named command opened %d pull requests", len(prs))
	}
	before, _ := h.repo.ReadFile(head, sandbox.KustomizationPath)
	after, _ := h.repo.ReadFile(prs[0].HeadSHA, sandbox.KustomizationPath)
	if want := strings.Replace(before, "newTag: master-9c1e2f0", "newTag: master-f01225d", 1); after != want {
		t.Errorf("kustomization after the restore:\n%s\nwant:\n%s", after, want)
	}
}

func TestSupersededImageItsReleaseDidNotNameIsNamedByItsPolicy(t *testing.T) {
	e := start(t)
	// Helm values whose tag line is too far from the repository line for a
	// release's diff to show the image.
	const valuesPath = "apps/api/values.yaml"
	values := func(tag string) string {
		return "image:\n  repository: ghcr.io/acme/api\n  pullPolicy: IfNotPresent\n  # The tag follows the image policy.\n  # Keep the marker.\n" +
			"  tag: " + tag + ` # {"$imagepolicy": "flux-system:api:tag"}` + "\n"
	}
	if _, err := e.repo.EditByHand(e.ctx, valuesPath, "Add the api values", func(string) string { return values("3.1.0") }); err != nil {
		t.Fatal(err)
	}
	release := func(tag string) string {
		sha, _, err := e.repo.CommitAndPush(e.ctx, "main", fakegithub.CommitSpec{
			Message: "Update from image update automation\n", Author: sandbox.FluxV2,
			Files: map[string]*fakegithub.File{valuesPath: {Content: values(tag)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	first := release("3.2.0")
	later := release("3.3.0")

	reply := restoreComment(t, e, "/rollback "+first[:7])
	want := fmt.Sprintf("The image of policy flux-system:api is now at 3.3.0, released in %s (1 release after this one)", later[:7])
	if !strings.Contains(restoreRendered(reply), want) {
		t.Errorf("reply lacks %q:\n%s", want, reply)
	}
}
