package handlers_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// Images of the sample repository.
const (
	pushImageAPI      = "gcr.io/track-compliance/api"
	pushImageAPIJS    = "gcr.io/track-compliance/api-js"
	pushImageFrontend = "gcr.io/track-compliance/frontend"
)

// Calls GitHub answers for one push (see TestPushGitHubCalls): reading the
// configuration costs one call when the repository has the file, and two
// when it has none (the repository's file, then its organisation's .github
// repository); every YAML commit costs a commits/{sha}; every release one
// check-run lookup and one check-run creation.
const (
	pushConfigCallsWithoutFile = 2
	pushConfigCallsWithFile    = 1
)

func pushCalls(configCalls, yamlCommits, releases int) int {
	return configCalls + yamlCommits + 2*releases
}

// pushAnnounceBase pushes what the sample repository holds, so later pushes
// list only the commits a test makes, and forgets the requests so far.
func pushAnnounceBase(t *testing.T, e *env) {
	t.Helper()
	pushDelivered(t)(e.repo.Push(e.ctx, "main"))
	if runs := e.repo.CheckRuns(""); len(runs) != 0 {
		t.Fatalf("the sample repository's first commit got check runs: %+v", runs)
	}
	e.GitHub.ResetRequests()
}

// pushDelivered returns a check that fails the test unless the app accepted
// a delivery: pushDelivered(t)(repo.Push(ctx, "main")).
func pushDelivered(t *testing.T) func(*fakegithub.Delivery, error) *fakegithub.Delivery {
	return func(d *fakegithub.Delivery, err error) *fakegithub.Delivery {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if d.StatusCode < 200 || d.StatusCode > 299 {
			t.Fatalf("delivery %s answered %d: %s", d.GUID, d.StatusCode, d.ResponseBody)
		}
		return d
	}
}

// pushNewTag matches the newTag line of a kustomization images: entry.
func pushNewTag(image string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(- name: ` + regexp.QuoteMeta(image) + `\n  newTag: )(\S+)$`)
}

// pushCommit commits files on branch without pushing and returns the commit.
func pushCommit(t *testing.T, repo *fakegithub.Repo, branch string, author fakegithub.Person, message string, files map[string]*fakegithub.File) string {
	t.Helper()
	sha, err := repo.Commit(branch, fakegithub.CommitSpec{Message: message, Author: author, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// pushEdit returns path's content on branch after edit.
func pushEdit(t *testing.T, repo *fakegithub.Repo, branch, path string, edit func(string) string) map[string]*fakegithub.File {
	t.Helper()
	content, err := repo.ReadFile(branch, path)
	if err != nil {
		t.Fatal(err)
	}
	updated := edit(content)
	if updated == content {
		t.Fatalf("the edit of %s changed nothing", path)
	}
	return map[string]*fakegithub.File{path: {Content: updated}}
}

// pushSetTags sets the newTag of each image in a kustomization.
func pushSetTags(tags map[string]string) func(string) string {
	return func(s string) string {
		for image, tag := range tags {
			s = pushNewTag(image).ReplaceAllString(s, "${1}"+tag)
		}
		return s
	}
}

// pushReleaseV1 commits, without pushing, what fluxd commits when it
// releases image:tag on branch.
func pushReleaseV1(t *testing.T, repo *fakegithub.Repo, branch, image, tag string) string {
	t.Helper()
	return pushCommit(t, repo, branch, sandbox.FluxV1, fmt.Sprintf("Auto-release %s:%s\n\n[ci skip]", image, tag),
		pushEdit(t, repo, branch, sandbox.KustomizationPath, pushSetTags(map[string]string{image: tag})))
}

var pushWebImage = regexp.MustCompile(`(image: ghcr\.io/acme/web:)(\S+)( # \{"\$imagepolicy": "flux-system:web"\})`)

// pushReleaseV2 commits, without pushing, what Flux's image automation
// commits when it moves the web Deployment to tag.
func pushReleaseV2(t *testing.T, repo *fakegithub.Repo, branch, tag string) string {
	t.Helper()
	return pushCommit(t, repo, branch, sandbox.FluxV2,
		"Update from image update automation\n\nAutomation name: flux-system/web\n\nFiles:\n- "+sandbox.DeploymentPath+"\n",
		pushEdit(t, repo, branch, sandbox.DeploymentPath, func(s string) string {
			return pushWebImage.ReplaceAllString(s, "${1}"+tag+"${3}")
		}))
}

// pushSummaryRows returns the rows of the image | from | to | file table.
func pushSummaryRows(t *testing.T, summary string) []string {
	t.Helper()
	const header = "| Image | From | To | File |\n|---|---|---|---|\n"
	_, table, ok := strings.Cut(summary, header)
	if !ok {
		t.Fatalf("no image table in the summary:\n%s", summary)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	return strings.Split(table, "\n")
}

// pushTableCells splits a Markdown table row into its cells as GitHub does:
// at every pipe not escaped by a backslash.
func pushTableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "| "), " |")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cell.WriteByte(row[i])
			cell.WriteByte(row[i+1])
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// pushCheckReleaseRun asserts a release's check run: its wording and its one
// Roll back button.
func pushCheckReleaseRun(t *testing.T, run fakegithub.CheckRun, title string, rows []string, branch string) {
	t.Helper()
	if run.Name != report.CheckRunName || run.Status != "completed" || run.Conclusion != "neutral" {
		t.Errorf("check run %s on %s is %s/%s, want Rollback completed/neutral", run.Name, run.HeadSHA[:7], run.Status, run.Conclusion)
	}
	if run.Output.Title != title {
		t.Errorf("title = %q, want %q", run.Output.Title, title)
	}
	if got := pushSummaryRows(t, run.Output.Summary); !slices.Equal(got, rows) {
		t.Errorf("image table of %s =\n%s\nwant\n%s", run.HeadSHA[:7], strings.Join(got, "\n"), strings.Join(rows, "\n"))
	}
	if want := "reverts this commit on `" + branch + "`"; !strings.Contains(run.Output.Summary, want) {
		t.Errorf("summary does not say %q:\n%s", want, run.Output.Summary)
	}
	if len(run.Actions) != 1 {
		t.Fatalf("actions = %+v, want one", run.Actions)
	}
	a := run.Actions[0]
	if a.Label != "Roll back" || a.Identifier != report.ActionRollback || a.Description == "" || len(a.Description) > 40 {
		t.Errorf("action = %+v, want Roll back/%s with a description of at most 40 characters", a, report.ActionRollback)
	}
	if run.ExternalID != run.HeadSHA {
		t.Errorf("external id = %q, want the commit %s", run.ExternalID, run.HeadSHA)
	}
}

// pushRunsByCommit counts the Rollback check runs of every commit.
func pushRunsByCommit(repo *fakegithub.Repo) map[string]int {
	out := map[string]int{}
	for _, r := range repo.CheckRuns("") {
		if r.Name == report.CheckRunName {
			out[r.HeadSHA]++
		}
	}
	return out
}

// pushRoutes lists requests one a line, for failure messages.
func pushRoutes(reqs []fakegithub.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s -> %d\n", r.Method, r.Path, r.Status)
	}
	return b.String()
}

// pushCheckCalls asserts how many GitHub calls the last push made.
func pushCheckCalls(t *testing.T, e *env, want int) {
	t.Helper()
	if calls := e.apiCalls(); len(calls) != want {
		t.Errorf("the push made %d GitHub calls, want %d:\n%s", len(calls), want, pushRoutes(calls))
	}
}

func TestPushMarksEachReleaseCommitOfAMixedPush(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo

	v1 := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
	// A person bumps a tag and changes something else in the same commit.
	bumpAndMore := pushCommit(t, repo, "main", sandbox.Human, "Auto-release gcr.io/track-compliance/api:master-5e6f7a8",
		pushEdit(t, repo, "main", sandbox.KustomizationPath, func(s string) string {
			s = pushSetTags(map[string]string{pushImageAPI: "master-5e6f7a8"})(s)
			return strings.Replace(s, "- frontend.yaml\n", "- frontend.yaml\n- worker.yaml\n", 1)
		}))
	// A message that talks of a release, on a commit that is not one.
	mentionsRelease := pushCommit(t, repo, "main", sandbox.Human, "Release 2.0 to production: scale the web Deployment",
		pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
			return strings.Replace(s, "replicas: 2", "replicas: 3", 1)
		}))
	v2 := pushReleaseV2(t, repo, "main", "1.5.0")
	multi := pushCommit(t, repo, "main", sandbox.FluxV1,
		"Auto-release multiple (2) images\n\n - gcr.io/track-compliance/api:master-9a8b7c6\n - gcr.io/track-compliance/frontend:master-2b3c4d5\n\n[ci skip]",
		pushEdit(t, repo, "main", sandbox.KustomizationPath, pushSetTags(map[string]string{
			pushImageAPI: "master-9a8b7c6", pushImageFrontend: "master-2b3c4d5",
		})))
	docs := pushCommit(t, repo, "main", sandbox.Human, "Explain the release process",
		map[string]*fakegithub.File{"README.md": {Content: "# Deploy configuration\n\nFlux releases images.\n"}})
	// A feature branch merged with --no-ff: the merge commit changes YAML
	// (against its first parent) but is no release.
	if err := repo.SetRef("feature", docs); err != nil {
		t.Fatal(err)
	}
	feature := pushCommit(t, repo, "feature", sandbox.Human, "Add the web ConfigMap",
		map[string]*fakegithub.File{"apps/web/configmap.yaml": {Content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"}})
	featureCommit, err := repo.CommitInfo(feature)
	if err != nil {
		t.Fatal(err)
	}
	merge, err := repo.WriteCommit(fakegithub.CommitObject{
		Tree: featureCommit.Tree, Parents: []string{docs, feature},
		Author: featureCommit.Author, Committer: featureCommit.Committer, Message: "Merge branch 'feature'\n",
	})
	if err != nil {
		t.Fatal(err)
	}

	d := pushDelivered(t)(repo.PushTo(e.ctx, "main", merge))
	var payload struct{ Commits []struct{ ID string } }
	if err := json.Unmarshal(d.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if len(payload.Commits) != 8 {
		t.Fatalf("the push lists %d commits, want 8", len(payload.Commits))
	}

	pushCheckReleaseRun(t, e.rollbackRun(t, repo, v1), "api-js master-f01225d -> master-26a4b87", []string{
		"| gcr.io/track-compliance/api-js | master-f01225d | master-26a4b87 | app/bases/kustomization.yaml:11 |",
	}, "main")
	pushCheckReleaseRun(t, e.rollbackRun(t, repo, v2), "web 1.4.2 -> 1.5.0", []string{
		"| ghcr.io/acme/web | 1.4.2 | 1.5.0 | apps/web/deployment.yaml:18 |",
	}, "main")
	pushCheckReleaseRun(t, e.rollbackRun(t, repo, multi), "api master-5e6f7a8 -> master-9a8b7c6 and 1 more", []string{
		"| gcr.io/track-compliance/api | master-5e6f7a8 | master-9a8b7c6 | app/bases/kustomization.yaml:10 |",
		"| gcr.io/track-compliance/frontend | master-1c2d3e4 | master-2b3c4d5 | app/bases/kustomization.yaml:14 |",
	}, "main")
	for name, sha := range map[string]string{
		"tag bump with another change": bumpAndMore, "message mentioning a release": mentionsRelease,
		"README change": docs, "feature commit": feature, "merge commit": merge,
	} {
		if runs := repo.CheckRuns(sha); len(runs) != 0 {
			t.Errorf("the %s %s got check runs: %+v", name, sha[:7], runs)
		}
	}
	if got := len(repo.CheckRuns("")); got != 3 {
		t.Errorf("%d check runs in the repository, want 3", got)
	}
	// Seven commits changed YAML (all but the README one), three are releases.
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithoutFile, 7, 3))
}

func TestPushEscapesWhatCameFromTheCommit(t *testing.T) {
	e := start(t)
	repo := e.repo.Repo
	// A directory name and an images: entry name are the commit's text that
	// reaches the table; both are crafted to break it if left raw.
	const path = "apps/a|b `x` *y*/kustomization.yaml"
	const name = "evil|<b>[x](http://e)</b> @alice"
	pushCommit(t, repo, "main", sandbox.Human, "Add the evil app", map[string]*fakegithub.File{
		path: {Content: "images:\n- name: " + name + "\n  newName: gcr.io/acme/evil\n  newTag: __v1__\n"},
	})
	pushAnnounceBase(t, e)
	sha := pushCommit(t, repo, "main", sandbox.FluxV1, "Auto-release gcr.io/acme/evil:__v2__ | `boom` **x**\n\n[ci skip]",
		pushEdit(t, repo, "main", path, func(s string) string { return strings.Replace(s, "__v1__", "__v2__", 1) }))
	pushDelivered(t)(repo.Push(e.ctx, "main"))

	run := e.rollbackRun(t, repo, sha)
	rows := pushSummaryRows(t, run.Output.Summary)
	if len(rows) != 1 {
		t.Fatalf("want one row, got %q", rows)
	}
	cells := pushTableCells(rows[0])
	if len(cells) != 4 {
		t.Fatalf("the row has %d cells, want 4: %q", len(cells), rows[0])
	}
	for i, raw := range []string{name, "__v1__", "__v2__", path + ":4"} {
		if cells[i] == raw {
			t.Errorf("cell %d is not escaped: %q", i, cells[i])
		}
		if got := pushUnescape(cells[i]); got != raw {
			t.Errorf("cell %d = %q, which reads %q, want %q", i, cells[i], got, raw)
		}
	}
	if strings.Contains(run.Output.Summary, "@alice") {
		t.Errorf("the summary pings @alice:\n%s", run.Output.Summary)
	}
}

// pushUnescape reads escaped Markdown text back as GitHub shows it.
func pushUnescape(s string) string {
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "").Replace(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestPushWatchesTheDefaultBranchAndTheConfiguredOnes(t *testing.T) {
	e := start(t)
	repo := e.repo.Repo
	pushCommit(t, repo, "main", sandbox.Human, "Watch staging", map[string]*fakegithub.File{
		".github/flux-rollback.yml": {Content: "version: 1\nbranches: [staging]\n"},
	})
	pushAnnounceBase(t, e)
	base, _ := repo.Ref("main")
	for _, b := range []string{"staging", "feature"} {
		if err := repo.SetRef(b, base); err != nil {
			t.Fatal(err)
		}
	}

	onMain := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-1111111")
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithFile, 1, 1))

	e.GitHub.ResetRequests()
	onStaging := pushReleaseV1(t, repo, "staging", pushImageAPIJS, "master-2222222")
	pushDelivered(t)(repo.Push(e.ctx, "staging"))
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithFile, 1, 1))
	pushCheckReleaseRun(t, e.rollbackRun(t, repo, onStaging), "api-js master-f01225d -> master-2222222", []string{
		"| gcr.io/track-compliance/api-js | master-f01225d | master-2222222 | app/bases/kustomization.yaml:11 |",
	}, "staging")

	// A branch nobody asked to watch: the configuration is read to know
	// that, and nothing more.
	e.GitHub.ResetRequests()
	onFeature := pushReleaseV1(t, repo, "feature", pushImageAPIJS, "master-3333333")
	pushDelivered(t)(repo.Push(e.ctx, "feature"))
	pushCheckCalls(t, e, pushConfigCallsWithFile)

	// Tags and deletions cost nothing.
	e.GitHub.ResetRequests()
	pushDelivered(t)(repo.PushTo(e.ctx, "tags/v1.0.0", onFeature))
	pushDelivered(t)(repo.PushTo(e.ctx, "tags/v0.9.0", onMain))
	pushDelivered(t)(repo.DeleteBranch(e.ctx, "staging"))
	pushDelivered(t)(repo.DeleteBranch(e.ctx, "feature"))
	pushCheckCalls(t, e, 0)

	want := map[string]int{onMain: 1, onStaging: 1}
	if got := pushRunsByCommit(repo); !maps.Equal(got, want) {
		t.Errorf("check runs by commit = %v, want %v", got, want)
	}
}

func TestPushForcedRewriteMarksOnlyTheNewCommits(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	base, _ := repo.Ref("main")
	first := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-1111111")
	second := pushReleaseV2(t, repo, "main", "1.5.0")
	pushDelivered(t)(repo.Push(e.ctx, "main"))

	// Rewound: nothing new to look at.
	e.GitHub.ResetRequests()
	pushDelivered(t)(repo.PushTo(e.ctx, "main", base))
	pushCheckCalls(t, e, 0)

	// Back again: both commits are listed anew, and both already have
	// their check run.
	e.GitHub.ResetRequests()
	pushDelivered(t)(repo.PushTo(e.ctx, "main", second))
	pushCheckCalls(t, e, pushConfigCallsWithoutFile+2+2)

	// The second commit amended: only the rewritten commit is new.
	old, err := repo.CommitInfo(second)
	if err != nil {
		t.Fatal(err)
	}
	amended, err := repo.WriteCommit(fakegithub.CommitObject{
		Tree: old.Tree, Parents: old.Parents, Author: old.Author, Committer: old.Committer,
		Message: old.Message + "\nSigned-off-by: fluxcdbot <fluxcdbot@users.noreply.github.com>\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.GitHub.ResetRequests()
	d := pushDelivered(t)(repo.PushTo(e.ctx, "main", amended))
	if !strings.Contains(string(d.Payload), `"forced":true`) {
		t.Fatalf("the push is not forced: %s", d.Payload)
	}
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithoutFile, 1, 1))

	want := map[string]int{first: 1, second: 1, amended: 1}
	if got := pushRunsByCommit(repo); !maps.Equal(got, want) {
		t.Errorf("check runs by commit = %v, want %v", got, want)
	}
}

func TestPushRedeliveryCreatesNoDuplicate(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	sha, d, err := e.repo.CommitAndPush(e.ctx, "main", fakegithub.CommitSpec{
		Message: "Auto-release gcr.io/track-compliance/api-js:master-26a4b87\n\n[ci skip]", Author: sandbox.FluxV1,
		Files: pushEdit(t, e.repo.Repo, "main", sandbox.KustomizationPath, pushSetTags(map[string]string{pushImageAPIJS: "master-26a4b87"})),
	})
	pushDelivered(t)(d, err)
	first := e.rollbackRun(t, e.repo.Repo, sha)

	e.GitHub.ResetRequests()
	again := pushDelivered(t)(e.GitHub.Redeliver(e.ctx, d.ID))
	if !again.Redelivery || again.GUID != d.GUID {
		t.Fatalf("not a redelivery of %s: %+v", d.GUID, again)
	}
	if run := e.rollbackRun(t, e.repo.Repo, sha); run.ID != first.ID {
		t.Errorf("the check run was replaced: %d, then %d", first.ID, run.ID)
	}
	// The lookup finds the check run, so nothing is created.
	pushCheckCalls(t, e, pushConfigCallsWithoutFile+1+1)
}

func TestPushGitHubCalls(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo

	// No YAML: no call at all, not even for the configuration.
	pushCommit(t, repo, "main", sandbox.Human, "Document", map[string]*fakegithub.File{"README.md": {Content: "# Deploy\n"}})
	pushCommit(t, repo, "main", sandbox.Human, "Check harder", map[string]*fakegithub.File{"scripts/check.sh": {Content: "#!/bin/sh\nset -e\n", Mode: "100755"}})
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	pushCheckCalls(t, e, 0)

	// Five YAML commits, two of them releases.
	e.GitHub.ResetRequests()
	pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-1111111")
	pushCommit(t, repo, "main", sandbox.Human, "Scale web", pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
		return strings.Replace(s, "replicas: 2", "replicas: 4", 1)
	}))
	pushCommit(t, repo, "main", sandbox.Human, "Document again", map[string]*fakegithub.File{"README.md": {Content: "# Deploy!\n"}})
	pushReleaseV2(t, repo, "main", "1.6.0")
	pushCommit(t, repo, "main", sandbox.Human, "Add a worker", map[string]*fakegithub.File{"apps/worker/deployment.yml": {Content: "kind: Deployment\n"}})
	pushCommit(t, repo, "main", sandbox.Human, "Drop the worker", map[string]*fakegithub.File{"apps/worker/deployment.yml": nil})
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithoutFile, 5, 2))
	if n := len(repo.CheckRuns("")); n != 2 {
		t.Errorf("%d check runs, want 2", n)
	}
}

// pushCapture receives webhooks in place of the app.
type pushCapture struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (c *pushCapture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.payloads = append(c.payloads, body)
	c.mu.Unlock()
}

// pushAsOne delivers, as one push signed like GitHub's, the pushes of branch
// that each step makes: the embedded GitHub renders each push's payload
// (it lists at most 20 commits in one, as GitHub's timeline events do), and
// their commit lists are joined, as GitHub's webhooks list up to 2,048
// commits of a push. It returns the app's answer and how many commits the
// push listed.
func pushAsOne(t *testing.T, e *env, branch string, steps int, step func(i int)) (*http.Response, int) {
	t.Helper()
	capture := &pushCapture{}
	srv := httptest.NewServer(capture)
	defer srv.Close()
	e.GitHub.SetWebhook(srv.URL, "")
	for i := range steps {
		step(i)
		if _, err := e.repo.Push(e.ctx, branch); err != nil {
			t.Fatal(err)
		}
	}
	e.GitHub.SetWebhook(e.AppURL+server.WebhookRoute, e.WebhookSecret)

	var joined map[string]any
	var commits []any
	for i, p := range capture.payloads {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			joined = m
		}
		commits = append(commits, m["commits"].([]any)...)
		joined["after"], joined["head_commit"] = m["after"], m["head_commit"]
	}
	joined["commits"] = commits
	body, err := json.Marshal(joined)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.AppURL+server.WebhookRoute, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(e.WebhookSecret))
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("push-as-one-%d", len(commits)))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, len(commits)
}

func TestPushOfThreeHundredCommitsMarksEveryRelease(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	var releases []string
	yaml := 0
	resp, listed := pushAsOne(t, e, "main", 15, func(batch int) {
		for j := range 20 {
			i := batch*20 + j
			switch i % 4 {
			case 0:
				releases = append(releases, pushReleaseV1(t, repo, "main", pushImageAPIJS, fmt.Sprintf("master-%07x", i)))
				yaml++
			case 1:
				pushCommit(t, repo, "main", sandbox.Human, fmt.Sprintf("Scale web to %d", i), pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
					return regexp.MustCompile(`replicas: \d+`).ReplaceAllString(s, fmt.Sprintf("replicas: %d", i))
				}))
				yaml++
			case 2:
				releases = append(releases, pushReleaseV2(t, repo, "main", fmt.Sprintf("1.5.%d", i)))
				yaml++
			case 3:
				pushCommit(t, repo, "main", sandbox.Human, fmt.Sprintf("Note %d", i), map[string]*fakegithub.File{"README.md": {Content: fmt.Sprintf("# Deploy %d\n", i)}})
			}
		}
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the push of 300 commits answered %s", resp.Status)
	}
	if listed != 300 || len(releases) != 150 || yaml != 225 {
		t.Fatalf("pushed %d commits, %d releases and %d YAML commits, want 300, 150 and 225", listed, len(releases), yaml)
	}
	runs := pushRunsByCommit(repo)
	for _, sha := range releases {
		if runs[sha] != 1 {
			t.Errorf("release %s has %d check runs, want 1", sha[:7], runs[sha])
		}
	}
	if len(runs) != len(releases) {
		t.Errorf("%d commits have check runs, want the %d releases", len(runs), len(releases))
	}
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithoutFile, yaml, len(releases)))
	if strings.Contains(e.logs.String(), pushMaximumWarning) {
		t.Errorf("a push of 300 commits warned %q", pushMaximumWarning)
	}
}

// pushDeliveries returns the push deliveries so far, oldest first.
func pushDeliveries(gh *fakegithub.GitHub) []fakegithub.Delivery {
	var out []fakegithub.Delivery
	for _, d := range gh.Deliveries() {
		if d.Event == "push" {
			out = append(out, d)
		}
	}
	return out
}

func TestPushFailsTheDeliveryWhenGitHubFailsAndARedeliveryFinishes(t *testing.T) {
	const releases = 12
	for name, tc := range map[string]struct {
		fail func(gh *fakegithub.GitHub)
		// marked is how many releases have their check run after the
		// failed delivery.
		marked int
	}{
		// Every check run creation fails, each checked and tried again
		// (three rounds per release) until the event gives up: the
		// delivery fails and nothing is left half-made.
		"server error on every check run": {func(gh *fakegithub.GitHub) {
			gh.FailNext(http.MethodPost, "/repos/{owner}/{repo}/check-runs", http.StatusInternalServerError, releases*3)
		}, 0},
		// The configuration cannot be read on any attempt: nothing is done.
		"secondary rate limit": {func(gh *fakegithub.GitHub) {
			gh.SecondaryRateLimitNext(http.StatusTooManyRequests, githubapi.DefaultMaxAttempts, 0)
		}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			pushAnnounceBase(t, e)
			repo := e.repo.Repo
			want := map[string]int{}
			for i := range releases / 2 {
				want[pushReleaseV1(t, repo, "main", pushImageAPIJS, fmt.Sprintf("master-%07d", i))] = 1
				want[pushReleaseV2(t, repo, "main", fmt.Sprintf("1.5.%d", i))] = 1
			}

			tc.fail(e.GitHub)
			d, err := repo.Push(e.ctx, "main")
			if err == nil || d == nil || d.StatusCode < 400 {
				t.Fatalf("the delivery succeeded though GitHub failed: %+v, %v", d, err)
			}
			recorded := pushDeliveries(e.GitHub)
			if last := recorded[len(recorded)-1]; last.GUID != d.GUID || last.StatusCode != d.StatusCode {
				t.Errorf("GitHub recorded %+v, want the failed delivery %s", last, d.GUID)
			}
			got := pushRunsByCommit(repo)
			if len(got) != tc.marked {
				t.Errorf("%d releases marked by the failed delivery, want %d", len(got), tc.marked)
			}
			for sha, n := range got {
				if n != 1 {
					t.Errorf("%s has %d check runs after the failed delivery", sha[:7], n)
				}
			}

			pushDelivered(t)(e.GitHub.Redeliver(e.ctx, d.ID))
			if got := pushRunsByCommit(repo); !maps.Equal(got, want) {
				t.Errorf("check runs by commit = %v, want one on each of %v", got, want)
			}
		})
	}
}

func TestPushUnderThePrimaryRateLimitFailsAndARedeliveryFinishesOnceGitHubAnswers(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	release := pushReleaseV1(t, e.repo.Repo, "main", pushImageAPIJS, "master-26a4b87")

	// A reset an hour away is past the event's deadline: the delivery
	// fails at once instead of waiting.
	e.GitHub.ExhaustRateLimit()
	d, err := e.repo.Push(e.ctx, "main")
	if err == nil || d == nil || d.StatusCode < 400 {
		t.Fatalf("the delivery succeeded under the rate limit: %+v, %v", d, err)
	}
	// While the limit holds, a redelivery costs one request: GitHub is
	// asked, not go-github's memory of the limit.
	e.GitHub.ResetRequests()
	again, err := e.GitHub.Redeliver(e.ctx, d.ID)
	if err == nil || again.StatusCode < 400 {
		t.Fatalf("the redelivery succeeded under the rate limit: %+v, %v", again, err)
	}
	pushCheckCalls(t, e, 1)
	if runs := e.repo.CheckRuns(""); len(runs) != 0 {
		t.Errorf("check runs made under the rate limit: %+v", runs)
	}
	// GitHub answers again before the announced reset: the same
	// installation's client is not refusing by itself.
	e.GitHub.RestoreRateLimit()
	pushDelivered(t)(e.GitHub.Redeliver(e.ctx, d.ID))
	if runs := rollbackRuns(e.repo.Repo, release); len(runs) != 1 {
		t.Errorf("%d check runs on the release after the limit, want 1", len(runs))
	}
}

func TestPushBrokenConfigurationIsShownAndNothingElseHappens(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
	head := pushCommit(t, repo, "main", sandbox.Human, "Watch staging", map[string]*fakegithub.File{
		".github/flux-rollback.yml": {Content: "version: 1\nbranches: staging\n"},
	})
	pushDelivered(t)(repo.Push(e.ctx, "main"))

	runs := repo.CheckRuns("")
	if len(runs) != 1 {
		t.Fatalf("want only the configuration's check run, got %+v", runs)
	}
	run := runs[0]
	if run.Name != report.ConfigCheckRunName || run.HeadSHA != head || run.Status != "completed" || run.Conclusion != "neutral" {
		t.Errorf("check run = %+v, want %q completed/neutral on %s", run, report.ConfigCheckRunName, head[:7])
	}
	for _, want := range []string{".github/flux-rollback.yml", "line 2", "branches"} {
		if !strings.Contains(run.Output.Summary, want) {
			t.Errorf("the summary does not name %q:\n%s", want, run.Output.Summary)
		}
	}
	// The configuration, the lookup of an earlier report, the report.
	pushCheckCalls(t, e, pushConfigCallsWithFile+2)
}

func TestPushBrokenConfigurationRedeliveredIsShownOnce(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	head := pushCommit(t, repo, "main", sandbox.Human, "Watch staging", map[string]*fakegithub.File{
		".github/flux-rollback.yml": {Content: "version: 1\nbranches: staging\n"},
	})
	d := pushDelivered(t)(repo.Push(e.ctx, "main"))
	pushDelivered(t)(e.GitHub.Redeliver(e.ctx, d.ID))
	if runs := repo.CheckRuns(head); len(runs) != 1 {
		t.Errorf("want one check run on %s, got %+v", head[:7], runs)
	}
}

func TestPushInADisabledRepositoryMarksNothing(t *testing.T) {
	e := start(t)
	repo := e.repo.Repo
	pushCommit(t, repo, "main", sandbox.Human, "Turn flux-rollback off", map[string]*fakegithub.File{
		".github/flux-rollback.yml": {Content: "version: 1\nenabled: false\n"},
	})
	pushAnnounceBase(t, e)
	pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
	pushReleaseV2(t, repo, "main", "1.5.0")
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	if runs := repo.CheckRuns(""); len(runs) != 0 {
		t.Errorf("check runs in a disabled repository: %+v", runs)
	}
	pushCheckCalls(t, e, pushConfigCallsWithFile)
}

func TestPushTitleOfALongImageNameIsCutBetweenCharacters(t *testing.T) {
	e := start(t)
	repo := e.repo.Repo
	const path = "apps/long/kustomization.yaml"
	name := "registry.example/" + strings.Repeat("é", 70)
	pushCommit(t, repo, "main", sandbox.Human, "Add the long app", map[string]*fakegithub.File{
		path: {Content: "images:\n- name: " + name + "\n  newTag: v1\n"},
	})
	pushAnnounceBase(t, e)
	sha := pushCommit(t, repo, "main", sandbox.FluxV1, "Auto-release "+name+":v2\n\n[ci skip]",
		pushEdit(t, repo, "main", path, func(s string) string { return strings.Replace(s, "newTag: v1", "newTag: v2", 1) }))
	pushDelivered(t)(repo.Push(e.ctx, "main"))

	title := e.rollbackRun(t, repo, sha).Output.Title
	if !utf8.ValidString(title) || strings.ContainsRune(title, utf8.RuneError) {
		t.Errorf("title %q is not valid text", title)
	}
	if !strings.HasPrefix(title, strings.Repeat("é", 50)) || !strings.HasSuffix(title, "…") {
		t.Errorf("title = %q, want the image name cut short with an ellipsis", title)
	}
}

func TestPushListingGitHubsMaximumOfCommitsIsLogged(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	// Empty commits keep the 2,048 cheap to make; each batch of 16 is one
	// push of the embedded GitHub.
	resp, listed := pushAsOne(t, e, "main", 2048/16, func(batch int) {
		for j := range 16 {
			pushCommit(t, e.repo.Repo, "main", sandbox.Human, fmt.Sprintf("Empty %d.%d", batch, j), nil)
		}
	})
	if resp.StatusCode != http.StatusOK || listed != 2048 {
		t.Fatalf("the push of %d commits answered %s", listed, resp.Status)
	}
	if !strings.Contains(e.logs.String(), pushMaximumWarning) {
		t.Errorf("no warning %q in the logs", pushMaximumWarning)
	}
}

// pushMaximumWarning is logged for a push that may list only its latest
// commits.
const pushMaximumWarning = "the push lists GitHub's maximum of commits"

// pushReindent re-indents the containers list of the web Deployment two
// spaces deeper, as image-automation-controller's YAML library writes it.
func pushReindent(s string) string {
	return strings.NewReplacer(
		"      - name: web\n        image:", "        - name: web\n          image:",
		"        ports:\n        - containerPort: 8080\n", "          ports:\n            - containerPort: 8080\n",
	).Replace(s)
}

func TestPushMarksReleasesFluxReformatted(t *testing.T) {
	e := start(t)
	repo := e.repo.Repo
	pushCommit(t, repo, "main", sandbox.Human, "Name Flux's identity",
		map[string]*fakegithub.File{".github/flux-rollback.yml": {Content: "version: 1\ndetection:\n  authors: [fluxcdbot]\n"}})
	pushAnnounceBase(t, e)

	// Flux moves the marked line and re-indents the list around it.
	reformatted := pushCommit(t, repo, "main", sandbox.FluxV2, "Update from image update automation\n",
		pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
			return pushReindent(pushWebImage.ReplaceAllString(s, "${1}1.5.0${3}"))
		}))
	// A person re-indents it back, touching no image; another person bumps
	// the marked line and scales the Deployment in the same commit.
	tidy := pushCommit(t, repo, "main", sandbox.Human, "Update from image update automation\n",
		pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
			return strings.NewReplacer("        - name: web\n          image:", "      - name: web\n        image:",
				"          ports:\n            - containerPort: 8080\n", "        ports:\n        - containerPort: 8080\n").Replace(s)
		}))
	bumpAndScale := pushCommit(t, repo, "main", sandbox.Human, "Update from image update automation\n",
		pushEdit(t, repo, "main", sandbox.DeploymentPath, func(s string) string {
			return strings.Replace(pushWebImage.ReplaceAllString(s, "${1}1.6.0${3}"), "replicas: 2", "replicas: 3", 1)
		}))
	pushDelivered(t)(repo.Push(e.ctx, "main"))

	run := e.rollbackRun(t, repo, reformatted)
	pushCheckReleaseRun(t, run, "web 1.4.2 -> 1.5.0", []string{
		"| ghcr.io/acme/web | 1.4.2 | 1.5.0 | apps/web/deployment.yaml:18 |",
	}, "main")
	if !strings.Contains(run.Output.Summary, "Flux also reformatted `apps/web/deployment.yaml`") {
		t.Errorf("the check run does not say Flux reformatted the file:\n%s", run.Output.Summary)
	}
	for name, sha := range map[string]string{"re-indent": tidy, "bump and scale": bumpAndScale} {
		if runs := repo.CheckRuns(sha); len(runs) != 0 {
			t.Errorf("the %s commit %s got check runs: %+v", name, sha[:7], runs)
		}
	}
	// The Flux commit alone costs its file's two versions: the people's
	// commits are not read, whatever their message.
	var contents []string
	for _, c := range e.apiCalls() {
		if strings.Contains(c.Path, "/contents/"+sandbox.DeploymentPath) {
			contents = append(contents, c.Path)
		}
	}
	if len(contents) != 2 || !strings.Contains(strings.Join(contents, " "), "ref="+reformatted) {
		t.Errorf("file reads %q, want the Deployment before and in %s", contents, reformatted[:7])
	}
	pushCheckCalls(t, e, pushCalls(pushConfigCallsWithFile, 3, 1)+2)

	// Rolling it back is git's revert, which puts the old indentation back
	// too; the people's commits since touched the same lines, so that
	// revert conflicts and the tag is restored instead.
	d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, report.ActionRollback, sandbox.Human.Login)
	if err != nil || d.StatusCode != 200 {
		t.Fatalf("click: %v, %+v", err, d)
	}
	if run := e.rollbackRun(t, repo, reformatted); !strings.Contains(run.Output.Title, "conflict") {
		t.Errorf("the rollback of a release whose lines changed since = %q, want a conflict", run.Output.Title)
	}
}
