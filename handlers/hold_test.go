package handlers_test

import (
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
