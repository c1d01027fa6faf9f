package handlers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

const (
	apiPolicy = "flux-system:api"
	goodTag   = "master-f01225d"
	badTag    = "master-26a4b87"
)

// startV2 runs the sandbox with the Flux v2 sample repository acme/tracker
// as e.repo.
func startV2(t *testing.T) *env {
	t.Helper()
	e := start(t)
	repo, err := e.AddFluxV2Repo(sandbox.InstallationID, "acme", "tracker")
	if err != nil {
		t.Fatal(err)
	}
	e.repo = repo
	return e
}

// gitRevertTree is the tree `git revert` gives for release on head: the
// three versions of the repository are committed in a git repository, in
// order, and the git binary reverts. Trees have the same SHA in git and in
// the embedded GitHub, so comparing SHAs compares every byte.
func gitRevertTree(t *testing.T, repo *fakegithub.Repo, parent, release, head string) string {
	t.Helper()
	g, err := gitoracle.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	var shas []string
	var prev map[string]fakegithub.File
	for _, rev := range []string{parent, release, head} {
		files, err := repo.ReadTree(rev)
		if err != nil {
			t.Fatal(err)
		}
		edits := map[string]*gitoracle.File{}
		for p, f := range files {
			edits[p] = &gitoracle.File{Content: f.Content, Mode: f.Mode}
		}
		for p := range prev {
			if _, ok := files[p]; !ok {
				edits[p] = nil
			}
		}
		prev = files
		sha, err := g.CommitFiles("at "+rev[:7], edits)
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, sha)
	}
	res, err := g.Revert(shas[1], shas[2])
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != gitoracle.Clean {
		t.Fatalf("git revert %s: %v %s", release[:7], res.Outcome, res.Output)
	}
	return res.Tree
}

// heldLines compares two versions of a file: they must have the same lines
// but for the ones whose marker was held, where only the comment changed.
// It returns the lines that differ, 1-based.
func heldLines(t *testing.T, before, after string) []int {
	t.Helper()
	a, b := strings.SplitAfter(before, "\n"), strings.SplitAfter(after, "\n")
	if len(a) != len(b) {
		t.Fatalf("the hold changed the number of lines:\n%s\n---\n%s", before, after)
	}
	var out []int
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		out = append(out, i+1)
		ca, cb := strings.Index(a[i], " # {"), strings.Index(b[i], " # {")
		if ca < 0 || cb < 0 || a[i][:ca] != b[i][:cb] {
			t.Errorf("line %d changed outside its marker:\n%q\n%q", i+1, a[i], b[i])
		}
	}
	return out
}

// heldRollback is a Flux v2 release rolled back with a hold, not merged yet.
type heldRollback struct {
	parent, release string
	pr              fakegithub.PullRequest
	revertCommit    string
}

// rollBackWithHold releases the api image, clicks Roll back and returns the
// pull request, checking its two commits.
func rollBackWithHold(t *testing.T, e *env) heldRollback {
	t.Helper()
	parent, _ := e.repo.Ref("heads/main")
	release, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, badTag)
	if err != nil {
		t.Fatal(err)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	if d := click(t, e, run, report.ActionRollback, sandbox.Human.Login); d.StatusCode != 200 {
		t.Fatalf("click answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		final, _ := e.repo.CheckRun(run.ID)
		t.Fatalf("want 1 pull request, got %d; check run: %+v", len(prs), final.Output)
	}
	pr := prs[0]
	if !slices.Contains(pr.Labels, rollback.HoldLabel) {
		t.Errorf("the pull request is not labelled %s: %v", rollback.HoldLabel, pr.Labels)
	}
	holdCommit, err := e.repo.CommitInfo(pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if len(holdCommit.Parents) != 1 {
		t.Fatalf("hold commit parents %v", holdCommit.Parents)
	}
	revertSHA := holdCommit.Parents[0]
	revertCommit, err := e.repo.CommitInfo(revertSHA)
	if err != nil {
		t.Fatal(err)
	}
	// First commit: exactly git's revert, unchanged.
	if len(revertCommit.Parents) != 1 || revertCommit.Parents[0] != release {
		t.Fatalf("the revert's parents are %v, want [%s]", revertCommit.Parents, release)
	}
	if !strings.Contains(revertCommit.Message, "This reverts commit "+release+".") {
		t.Errorf("first commit is not the revert: %q", revertCommit.Message)
	}
	if got, want := revertCommit.Tree, gitRevertTree(t, e.repo.Repo, parent, release, release); got != want {
		t.Errorf("the revert's tree is %s, git revert gives %s", got, want)
	}
	// Second commit: the hold, marker text only, on exactly the lines the
	// revert set back.
	if !strings.HasPrefix(holdCommit.Message, "Hold Flux image automation for api-js\n") {
		t.Errorf("hold commit message %q", holdCommit.Message)
	}
	paths := changedPaths(t, e.repo.Repo, revertSHA, pr.HeadSHA)
	if want := []string{sandbox.APIKustomizationPath, sandbox.APIDeploymentPath}; !sameSet(paths, want) {
		t.Errorf("the hold changed %v, want %v", paths, want)
	}
	for _, p := range paths {
		reverted, _ := e.repo.ReadFile(revertSHA, p)
		held, _ := e.repo.ReadFile(pr.HeadSHA, p)
		atRelease, _ := e.repo.ReadFile(release, p)
		lines := heldLines(t, reverted, held)
		setBack := heldLinesOrNil(reverted, atRelease)
		if !slices.Equal(lines, setBack) {
			t.Errorf("%s: the hold changed lines %v, the revert set back lines %v", p, lines, setBack)
		}
		for _, m := range hold.Markers([]byte(held)) {
			if m.Policy == apiPolicy {
				t.Errorf("%s: Flux's controller still sees the marker on line %d: %q", p, m.Line, m.Text)
			}
		}
		if got := hold.FindHeld([]byte(held)); len(got) != len(lines) || got[0].Release != release[:7] || got[0].Value == "" {
			t.Errorf("%s: held markers %+v", p, got)
		}
	}
	return heldRollback{parent: parent, release: release, pr: pr, revertCommit: revertSHA}
}

// heldLinesOrNil lists the lines where two versions differ (same length).
func heldLinesOrNil(a, b string) []int {
	la, lb := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	var out []int
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			out = append(out, i+1)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// holdRun returns the hold check run on sha, failing unless there is one.
func holdRun(t *testing.T, repo *fakegithub.Repo, sha string) fakegithub.CheckRun {
	t.Helper()
	var runs []fakegithub.CheckRun
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == report.HoldCheckRunName {
			runs = append(runs, r)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("want 1 %q check run on %s, got %+v", report.HoldCheckRunName, sha[:7], runs)
	}
	return runs[0]
}

func merge(t *testing.T, e *env, number int) string {
	t.Helper()
	sha, d, err := e.repo.MergePullRequest(e.ctx, number, sandbox.Human.Login, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.StatusCode != 200 {
		t.Fatalf("the push of the merge answered %d: %s", d.StatusCode, d.ResponseBody)
	}
	return sha
}

func TestHoldResumeAndReleaseAgain(t *testing.T) {
	e := startV2(t)
	rb := rollBackWithHold(t, e)
	// A second click finds the branch, whose head is now the hold commit,
	// still holding this rollback.
	again := click(t, e, e.rollbackRun(t, e.repo.Repo, rb.release), report.ActionRollback, sandbox.Human.Login)
	if again.StatusCode != 200 || len(e.repo.PullRequests()) != 1 || len(rollbackBranches(e.repo.Repo)) != 1 {
		t.Fatalf("a second click: %d, %d pull requests, branches %v", again.StatusCode, len(e.repo.PullRequests()), rollbackBranches(e.repo.Repo))
	}
	if run := e.rollbackRun(t, e.repo.Repo, rb.release); !strings.Contains(run.Output.Title, "#1 is already open") {
		t.Errorf("a second click reports %q", run.Output.Title)
	}

	merged := merge(t, e, rb.pr.Number)
	run := holdRun(t, e.repo.Repo, merged)
	if want := "Held: api-js at " + goodTag; run.Output.Title != want {
		t.Errorf("hold check run title %q, want %q", run.Output.Title, want)
	}
	for _, want := range []string{"#1", "@alice", sandbox.APIDeploymentPath + ":18", sandbox.APIKustomizationPath + ":7", apiPolicy} {
		if !strings.Contains(run.Output.Summary, want) {
			t.Errorf("hold check run lacks %q:\n%s", want, run.Output.Summary)
		}
	}
	// While held, Flux's automation finds no marker to update.
	if _, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, "master-0badbad"); err == nil {
		t.Error("Flux's automation still finds the held lines")
	}
	// A redelivered push adds no second check run.
	deliveries := e.GitHub.Deliveries()
	if _, err := e.GitHub.Redeliver(e.ctx, deliveries[len(deliveries)-1].ID); err != nil {
		t.Fatal(err)
	}
	holdRun(t, e.repo.Repo, merged)

	// Resume, twice: one branch, one pull request.
	click(t, e, run, report.ActionResume, sandbox.Human.Login)
	click(t, e, run, report.ActionResume, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 2 {
		t.Fatalf("want the rollback and one resume pull request, got %+v", prs)
	}
	resume := prs[1]
	if want := "rollback-" + rb.release[:7] + "-resume"; resume.Head != want {
		t.Errorf("resume branch %s, want %s", resume.Head, want)
	}
	if slices.Contains(resume.Labels, rollback.HoldLabel) {
		t.Error("the resume pull request is labelled as a hold")
	}
	final, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(final.Output.Title, "#2 is already open") {
		t.Errorf("the second click reports %q", final.Output.Title)
	}
	c, _ := e.repo.CommitInfo(resume.HeadSHA)
	if len(c.Parents) != 1 || c.Parents[0] != merged {
		t.Errorf("the resume commit's parents are %v, want the head %s", c.Parents, merged)
	}
	// Byte for byte, the files are as before the release.
	for _, p := range []string{sandbox.APIDeploymentPath, sandbox.APIKustomizationPath} {
		got, _ := e.repo.ReadFile(resume.HeadSHA, p)
		want, _ := e.repo.ReadFile(rb.parent, p)
		if got != want {
			t.Errorf("%s after the resume:\n%s\nwant:\n%s", p, got, want)
		}
	}
	if paths := changedPaths(t, e.repo.Repo, merged, resume.HeadSHA); len(paths) != 2 {
		t.Errorf("the resume changed %v", paths)
	}

	resumed := merge(t, e, resume.Number)
	for _, r := range e.repo.CheckRuns(resumed) {
		if r.Name == report.HoldCheckRunName {
			t.Errorf("a resumed hold still shows: %+v", r.Output)
		}
	}
	// A click on the old check run is refused now: nothing left to resume.
	click(t, e, run, report.ActionResume, sandbox.Human.Login)
	refused, _ := e.repo.CheckRun(run.ID)
	if !strings.Contains(refused.Output.Title, "nothing held") || len(e.repo.PullRequests()) != 2 {
		t.Errorf("a click after the resume was merged: %+v", refused.Output)
	}

	// Flux releases the image again, and the release gets its button.
	next, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, "master-3c4d5e6")
	if err != nil {
		t.Fatal(err)
	}
	nextRun := e.rollbackRun(t, e.repo.Repo, next)
	if nextRun.Output.Title != "api-js master-f01225d -> master-3c4d5e6 and 1 more" && !strings.HasPrefix(nextRun.Output.Title, "api-js master-f01225d -> master-3c4d5e6") {
		t.Errorf("the next release's check run: %+v", nextRun.Output)
	}
	if !slices.ContainsFunc(nextRun.Actions, func(a fakegithub.CheckRunAction) bool { return a.Identifier == report.ActionRollback }) {
		t.Errorf("the next release has no Roll back button: %+v", nextRun.Actions)
	}
}

// commitAsFlux commits files as Flux's image automation does and pushes.
func commitAsFlux(t *testing.T, e *env, files map[string]string) string {
	t.Helper()
	spec := fakegithub.CommitSpec{
		Message: "Update from image update automation\n\nAutomation name: flux-system/flux-system\n",
		Author:  sandbox.FluxV2, Files: map[string]*fakegithub.File{},
	}
	for p, c := range files {
		spec.Files[p] = &fakegithub.File{Content: c}
	}
	sha, _, err := e.repo.CommitAndPush(e.ctx, "main", spec)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// commitByHand commits files as a person and pushes.
func commitByHand(t *testing.T, e *env, message string, files map[string]string) string {
	t.Helper()
	spec := fakegithub.CommitSpec{Message: message, Author: sandbox.Human, Files: map[string]*fakegithub.File{}}
	for p, c := range files {
		spec.Files[p] = &fakegithub.File{Content: c}
	}
	sha, _, err := e.repo.CommitAndPush(e.ctx, "main", spec)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// pullRequestHead returns the hold commit and the revert (or restore)
// commit under it.
func pullRequestCommits(t *testing.T, e *env, pr fakegithub.PullRequest) (holdSHA, firstSHA string, holdCommit fakegithub.CommitObject) {
	t.Helper()
	c, err := e.repo.CommitInfo(pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Parents) != 1 {
		t.Fatalf("head of #%d has parents %v", pr.Number, c.Parents)
	}
	return pr.HeadSHA, c.Parents[0], c
}

func TestHoldEveryMarkerForm(t *testing.T) {
	e := startV2(t)
	const path = "k8s/clusters/staging/kustomization.yaml"
	const digestA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const digestB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	file := func(name, tag, digest string) string {
		return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: api\n" +
			"  newName: " + name + " # {\"$imagepolicy\": \"flux-system:api:name\"}\n" +
			"  newTag: " + tag + " # {\"$imagepolicy\": \"flux-system:api:tag\"}\n" +
			"  digest: " + digest + " # {\"$imagepolicy\": \"flux-system:api:digest\"}\n"
	}
	before := file("gcr.io/track-compliance/api-js", goodTag, digestA)
	parent := commitByHand(t, e, "Stage the api", map[string]string{path: before})
	release := commitAsFlux(t, e, map[string]string{path: file("ghcr.io/track-compliance/api-js", badTag, digestB)})
	click(t, e, e.rollbackRun(t, e.repo.Repo, release), report.ActionRollback, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("pull requests %+v", prs)
	}
	holdSHA, revertSHA, _ := pullRequestCommits(t, e, prs[0])
	if got, want := treeOf(t, e.repo.Repo, revertSHA), gitRevertTree(t, e.repo.Repo, parent, release, release); got != want {
		t.Errorf("revert tree %s, git's %s", got, want)
	}
	reverted, _ := e.repo.ReadFile(revertSHA, path)
	held, _ := e.repo.ReadFile(holdSHA, path)
	if lines := heldLines(t, reverted, held); !slices.Equal(lines, []int{5, 6, 7}) {
		t.Errorf("held lines %v, want the name, tag and digest lines 5, 6, 7", lines)
	}
	var fields []string
	for _, h := range hold.FindHeld([]byte(held)) {
		fields = append(fields, h.Field)
	}
	if !slices.Equal(fields, []string{"name", "tag", "digest"}) {
		t.Errorf("held fields %v", fields)
	}

	merged := merge(t, e, prs[0].Number)
	click(t, e, holdRun(t, e.repo.Repo, merged), report.ActionResume, sandbox.Human.Login)
	prs = e.repo.PullRequests()
	if len(prs) != 2 {
		t.Fatalf("no resume pull request: %+v", prs)
	}
	if got, _ := e.repo.ReadFile(prs[1].HeadSHA, path); got != before {
		t.Errorf("after the resume:\n%s\nwant:\n%s", got, before)
	}
}

func TestRestoreHolds(t *testing.T) {
	e := startV2(t)
	before, _ := e.repo.Ref("heads/main")
	release, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, badTag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, badTag, "master-9c1e2f0"); err != nil {
		t.Fatal(err)
	}
	run := e.rollbackRun(t, e.repo.Repo, release)
	click(t, e, run, report.ActionRollback, sandbox.Human.Login)
	refused, _ := e.repo.CheckRun(run.ID)
	click(t, e, refused, report.ActionRestore, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		final, _ := e.repo.CheckRun(run.ID)
		t.Fatalf("no restore pull request: %+v", final.Output)
	}
	if !slices.Contains(prs[0].Labels, rollback.HoldLabel) {
		t.Errorf("labels %v", prs[0].Labels)
	}
	holdSHA, restoreSHA, holdCommit := pullRequestCommits(t, e, prs[0])
	if !strings.HasPrefix(holdCommit.Message, "Hold Flux image automation for api-js") {
		t.Errorf("hold commit %q", holdCommit.Message)
	}
	for _, p := range []string{sandbox.APIDeploymentPath, sandbox.APIKustomizationPath} {
		restored, _ := e.repo.ReadFile(restoreSHA, p)
		want, _ := e.repo.ReadFile(before, p)
		if restored != want {
			t.Errorf("%s restored:\n%s\nwant:\n%s", p, restored, want)
		}
		held, _ := e.repo.ReadFile(holdSHA, p)
		if lines := heldLines(t, restored, held); len(lines) != 1 {
			t.Errorf("%s: held lines %v, want the one line", p, lines)
		}
		if h := hold.FindHeld([]byte(held)); len(h) != 1 || h[0].Release != release[:7] {
			t.Errorf("%s: held %+v", p, h)
		}
	}
}

func TestHoldOffOpensTheRevertAloneAndSaysWhatToRun(t *testing.T) {
	e := startV2(t)
	commitByHand(t, e, "Configure flux-rollback", map[string]string{".github/flux-rollback.yml": "version: 1\nhold: false\n"})
	release, err := e.repo.ReleasePolicy(e.ctx, apiPolicy, goodTag, badTag)
	if err != nil {
		t.Fatal(err)
	}
	click(t, e, e.rollbackRun(t, e.repo.Repo, release), report.ActionRollback, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("pull requests %+v", prs)
	}
	c, _ := e.repo.CommitInfo(prs[0].HeadSHA)
	if len(c.Parents) != 1 || c.Parents[0] != release || !strings.Contains(c.Message, "This reverts commit") {
		t.Errorf("with hold off the branch holds the revert alone: %+v", c)
	}
	if slices.Contains(prs[0].Labels, rollback.HoldLabel) {
		t.Error("a pull request without a hold is labelled as one")
	}
	for _, want := range []string{"`hold: false`", "`flux-system:api`", "flux suspend image update flux-system -n flux-system",
		"flux resume image update flux-system -n flux-system", sandbox.APIDeploymentPath} {
		if !strings.Contains(prs[0].Body, want) {
			t.Errorf("the pull request does not say %q:\n%s", want, prs[0].Body)
		}
	}
	if strings.Contains(prs[0].Body, "<automation>") {
		t.Errorf("a placeholder is left in:\n%s", prs[0].Body)
	}
}

func TestFluxV1AutomatedWorkloadIsLocked(t *testing.T) {
	e := start(t)
	const path = "workloads/api.yaml"
	manifest := func(tag string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: tracker\n  annotations:\n    fluxcd.io/automated: \"true\"\n" +
			"spec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: gcr.io/track-compliance/api:" + tag + "\n"
	}
	commitByHand(t, e, "Add the api", map[string]string{path: manifest("master-4003aac")})
	release, _, err := e.repo.CommitAndPush(e.ctx, "main", fakegithub.CommitSpec{
		Message: "Auto-release gcr.io/track-compliance/api:master-5e6f7a8\n\n[ci skip]", Author: sandbox.FluxV1,
		Files: map[string]*fakegithub.File{path: {Content: manifest("master-5e6f7a8")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	click(t, e, e.rollbackRun(t, e.repo.Repo, release), report.ActionRollback, sandbox.Human.Login)
	prs := e.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("pull requests %+v", prs)
	}
	holdSHA, revertSHA, _ := pullRequestCommits(t, e, prs[0])
	reverted, _ := e.repo.ReadFile(revertSHA, path)
	if reverted != manifest("master-4003aac") {
		t.Errorf("the first commit is not the revert:\n%s", reverted)
	}
	locked, _ := e.repo.ReadFile(holdSHA, path)
	if got := hold.LockedV1([]byte(locked)); len(got) != 1 || got[0].Name != "api" || got[0].Namespace != "tracker" {
		t.Errorf("locked workloads %+v in:\n%s", got, locked)
	}
	for _, want := range []string{"fluxcd.io/locked: \"true\"", "fluxcd.io/locked_msg:", "fluxcd.io/locked_user:"} {
		if !strings.Contains(locked, want) {
			t.Errorf("the hold commit lacks %q:\n%s", want, locked)
		}
	}
	// Only lines were added: every line of the revert is still there.
	if removed := heldLinesOrNil(reverted, locked); len(strings.SplitAfter(locked, "\n")) <= len(strings.SplitAfter(reverted, "\n")) || len(removed) == 0 {
		t.Errorf("the lock added no lines:\n%s", locked)
	}
	if !strings.Contains(prs[0].Body, "`tracker:deployment/api`") {
		t.Errorf("the pull request does not name the locked workload:\n%s", prs[0].Body)
	}

	// Merged, the lock gets its check run; Resume unlocks, byte for byte.
	merged := merge(t, e, prs[0].Number)
	run := holdRun(t, e.repo.Repo, merged)
	if run.Output.Title != "Held: tracker:deployment/api (locked)" || !strings.Contains(run.Output.Summary, "#1") {
		t.Errorf("hold check run %q:\n%s", run.Output.Title, run.Output.Summary)
	}
	click(t, e, run, report.ActionResume, sandbox.Human.Login)
	click(t, e, run, report.ActionResume, sandbox.Human.Login)
	prs = e.repo.PullRequests()
	if len(prs) != 2 {
		final, _ := e.repo.CheckRun(run.ID)
		t.Fatalf("want one resume pull request: %+v\n%s", prs, final.Output.Summary)
	}
	if got, _ := e.repo.ReadFile(prs[1].HeadSHA, path); got != reverted {
		t.Errorf("after the resume:\n%s\nwant the revert's:\n%s", got, reverted)
	}
	status := commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Status"), sandbox.Human.Login, "/rollback status")
	if len(status.replies) != 1 || !strings.Contains(status.replies[0], "tracker:deployment/api") || !strings.Contains(status.replies[0], "locked") {
		t.Errorf("status of a Flux v1 lock: %q", status.replies)
	}
}

func TestFluxV1KustomizationSaysWhatToRun(t *testing.T) {
	cases := map[string]struct {
		resources map[string]string // files beside the kustomization
		want      string
	}{
		"the repository does not show the workload": {
			want: "fluxctl lock --workload=<namespace>:<kind>/<name>",
		},
		"a resource beside it runs the image": {
			resources: map[string]string{
				"app/bases/api-js.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api-js\n  namespace: tracker\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: " + apiJS + "\n",
				"app/bases/api.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: gcr.io/track-compliance/api\n",
			},
			want: "fluxctl lock --workload=tracker:deployment/api-js ",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			if tc.resources != nil {
				commitByHand(t, e, "Add the workloads", tc.resources)
			}
			_, run := releasedAPIJS(t, e)
			click(t, e, run, report.ActionRollback, sandbox.Human.Login)
			prs := e.repo.PullRequests()
			if len(prs) != 1 {
				t.Fatalf("pull requests %+v", prs)
			}
			for _, want := range []string{tc.want, "fluxctl unlock", "`images:`", "`" + apiJS + "`"} {
				if !strings.Contains(prs[0].Body, want) {
					t.Errorf("the pull request does not say %q:\n%s", want, prs[0].Body)
				}
			}
			if strings.Contains(prs[0].Body, "deployment/api ") {
				t.Errorf("a workload running another image is named:\n%s", prs[0].Body)
			}
		})
	}
}

// mergedHold is acme/tracker with the api image held on main.
func mergedHold(t *testing.T) (*env, heldRollback, string) {
	t.Helper()
	e := startV2(t)
	rb := rollBackWithHold(t, e)
	return e, rb, merge(t, e, rb.pr.Number)
}

func TestHeldLineEditedByHand(t *testing.T) {
	e, _, merged := mergedHold(t)
	content, _ := e.repo.ReadFile("main", sandbox.APIDeploymentPath)
	edited := commitByHand(t, e, "Pin the hotfix", map[string]string{
		sandbox.APIDeploymentPath: strings.Replace(content, "api-js:"+goodTag, "api-js:master-407f1c2", 1),
	})
	run := holdRun(t, e.repo.Repo, edited)
	if !strings.Contains(run.Output.Title, "Held: api-js at master-407f1c2") || !strings.Contains(run.Output.Title, "still held") {
		t.Errorf("check run on the edit: %q", run.Output.Title)
	}
	if !strings.Contains(run.Output.Summary, "The hold is still in place") || !strings.Contains(run.Output.Summary, sandbox.APIDeploymentPath) {
		t.Errorf("check run on the edit:\n%s", run.Output.Summary)
	}
	// Resuming what the merge held is refused: the line is not what was held.
	click(t, e, holdRun(t, e.repo.Repo, merged), report.ActionResume, sandbox.Human.Login)
	refused := holdRun(t, e.repo.Repo, merged)
	for _, want := range []string{"held line edited"} {
		if !strings.Contains(refused.Output.Title, want) {
			t.Errorf("title %q lacks %q", refused.Output.Title, want)
		}
	}
	for _, want := range []string{sandbox.APIDeploymentPath + ":18", "master-407f1c2", goodTag} {
		if !strings.Contains(refused.Output.Summary, want) {
			t.Errorf("refusal lacks %q:\n%s", want, refused.Output.Summary)
		}
	}
	if len(e.repo.PullRequests()) != 1 {
		t.Error("a resume was opened over a hand edit")
	}
}

func TestResumeNeedsTheRollbackRole(t *testing.T) {
	e, _, merged := mergedHold(t)
	e.repo.SetPermission("bob", "read")
	if d := click(t, e, holdRun(t, e.repo.Repo, merged), report.ActionResume, "bob"); d.StatusCode != 200 {
		t.Fatalf("a refusal is not a failed delivery: %d", d.StatusCode)
	}
	run := holdRun(t, e.repo.Repo, merged)
	if !strings.Contains(run.Output.Title, "no permission") || !strings.Contains(run.Output.Summary, "bob") {
		t.Errorf("check run %+v", run.Output)
	}
	if len(e.repo.PullRequests()) != 1 {
		t.Error("a resume was opened for a read-only user")
	}
	if !slices.ContainsFunc(run.Actions, func(a fakegithub.CheckRunAction) bool { return a.Identifier == report.ActionResume }) {
		t.Error("the button is gone for the users who may click it")
	}
}

func TestStatusAndResumeComments(t *testing.T) {
	e, rb, _ := mergedHold(t)
	issue := e.repo.AddIssue("Incident: api-js crashes")
	status := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback status")
	if len(status.replies) != 1 {
		t.Fatalf("replies %v", status.replies)
	}
	for _, want := range []string{"gcr.io/track-compliance/api-js", sandbox.APIDeploymentPath + ":18", sandbox.APIKustomizationPath + ":7", "#1", "@alice", "`master-f01225d`"} {
		if !strings.Contains(status.replies[0], want) {
			t.Errorf("status lacks %q:\n%s", want, status.replies[0])
		}
	}

	which := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback resume")
	if len(which.replies) != 1 || !strings.Contains(which.replies[0], "Name the image to resume, as in `/rollback resume api-js`") {
		t.Errorf("/rollback resume without an image: %q", which.replies)
	}

	unknown := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback resume web")
	if len(unknown.replies) != 1 || !strings.Contains(unknown.replies[0], "web is not held") || !strings.Contains(unknown.replies[0], "api-js") {
		t.Errorf("resuming an image that is not held: %v", unknown.replies)
	}

	e.repo.SetPermission("bob", "read")
	denied := commandIssueComment(t, e, e.repo.Repo, issue, "bob", "/rollback resume api-js")
	if len(denied.replies) != 1 || !strings.Contains(denied.replies[0], "no permission") && !strings.Contains(denied.replies[0], "role") {
		t.Errorf("a read-only user: %v", denied.replies)
	}

	resumed := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback resume api-js")
	again := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback resume flux-system:api")
	prs := e.repo.PullRequests()
	if len(prs) != 2 {
		t.Fatalf("pull requests %+v", prs)
	}
	if want := fmt.Sprintf("Opened [#%d]", prs[1].Number); !strings.Contains(resumed.replies[0], want) || !strings.Contains(again.replies[0], "already open") {
		t.Errorf("replies %q, %q", resumed.replies, again.replies)
	}
	for _, p := range []string{sandbox.APIDeploymentPath, sandbox.APIKustomizationPath} {
		got, _ := e.repo.ReadFile(prs[1].HeadSHA, p)
		want, _ := e.repo.ReadFile(rb.parent, p)
		if got != want {
			t.Errorf("%s after /rollback resume:\n%s\nwant\n%s", p, got, want)
		}
	}
}

// rollbackCommit is the rollback's own commit of a pull request: the head,
// or the commit under the hold commit when the head holds images.
func rollbackCommit(t *testing.T, repo *fakegithub.Repo, pr fakegithub.PullRequest) string {
	t.Helper()
	c, err := repo.CommitInfo(pr.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(c.Message, "Hold Flux image automation for ") {
		return c.Parents[0]
	}
	return pr.HeadSHA
}

// Once the resume is merged, asking again is refused by saying so, with the
// resume's pull request, from a comment as from the button.
func TestResumeAfterTheResumeWasMerged(t *testing.T) {
	e, _, held := mergedHold(t)
	issue := e.repo.AddIssue("Incident: api-js crashes")
	commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback resume api-js")
	prs := e.repo.PullRequests()
	if len(prs) != 2 {
		t.Fatalf("pull requests %+v", prs)
	}
	resume := prs[1]
	merge(t, e, resume.Number)
	link := fmt.Sprintf("[#%d](https://github.com/acme/tracker/pull/%d), merged", resume.Number, resume.Number)

	for _, cmd := range []string{"/rollback resume api-js", "/rollback resume flux-system:api"} {
		again := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, cmd)
		if len(again.replies) != 1 {
			t.Fatalf("%s: replies %q", cmd, again.replies)
		}
		for _, want := range []string{"resumed already", link} {
			if !strings.Contains(again.replies[0], want) {
				t.Errorf("%s: the reply lacks %q:\n%s", cmd, want, again.replies[0])
			}
		}
	}
	click(t, e, holdRun(t, e.repo.Repo, held), report.ActionResume, sandbox.Human.Login)
	refused := holdRun(t, e.repo.Repo, held)
	if !strings.Contains(refused.Output.Title, "nothing held") || !strings.Contains(refused.Output.Summary, "resumed already") ||
		!strings.Contains(refused.Output.Summary, link) {
		t.Errorf("a click after the resume was merged: %+v", refused.Output)
	}
	if len(e.repo.PullRequests()) != 2 {
		t.Errorf("pull requests %+v", e.repo.PullRequests())
	}
}
