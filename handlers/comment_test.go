package handlers_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fluxrollback/flux-rollback/command"
	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// Tags of the sample kustomization's api-js image used by the comment tests.
const (
	apiJSFirstTag  = "master-f01225d" // in the sample repository before any release
	apiJSSecondTag = "master-26a4b87"
	apiJSThirdTag  = "master-9c1d2e3"
)

// commentHistory is acme/deploy after two releases of api-js and one of web:
// the newest release of api-js is apiJS2, and a later release of another
// image sits on top of it.
type commentHistory struct {
	apiJS1, apiJS2, web string
}

func releaseHistory(t *testing.T, e *env, repo *sandbox.GitOpsRepo) commentHistory {
	t.Helper()
	var h commentHistory
	var err error
	if h.apiJS1, err = repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag); err != nil {
		t.Fatal(err)
	}
	if h.apiJS2, err = repo.ReleaseV1(e.ctx, apiJS, apiJSThirdTag); err != nil {
		t.Fatal(err)
	}
	if h.web, err = repo.ReleaseV2(e.ctx, "1.5.0"); err != nil {
		t.Fatal(err)
	}
	return h
}

// commentResult is what the App did about one comment.
type commentResult struct {
	id      int64
	replies []string             // the App's comments on the same thread, after the comment
	calls   []fakegithub.Request // GitHub requests made while handling it
}

// commandIssueComment posts body on issue or pull request number as login,
// requires the delivery to be accepted, and returns what the App did.
func commandIssueComment(t *testing.T, e *env, repo *fakegithub.Repo, number int, login, body string) commentResult {
	t.Helper()
	e.GitHub.ResetRequests()
	id, d, err := repo.CommentOnIssue(e.ctx, number, login, body)
	if err != nil {
		t.Fatalf("comment %.80q: %v", body, err)
	}
	if d.StatusCode != http.StatusOK {
		t.Fatalf("comment %.80q: delivery answered %d: %s", body, d.StatusCode, d.ResponseBody)
	}
	res := commentResult{id: id, calls: e.apiCalls()}
	for _, c := range repo.IssueComments(number) {
		if c.ID > id && c.User == e.GitHub.BotLogin() && c.ViaApp {
			res.replies = append(res.replies, c.Body)
		}
	}
	return res
}

// commandCommitComment posts body on the comments of commit sha as login,
// requires the delivery to be accepted, and returns what the App did.
func commandCommitComment(t *testing.T, e *env, repo *fakegithub.Repo, sha, login, body string) commentResult {
	t.Helper()
	e.GitHub.ResetRequests()
	id, d, err := repo.CommentOnCommit(e.ctx, sha, login, body)
	if err != nil {
		t.Fatalf("comment %.80q: %v", body, err)
	}
	if d.StatusCode != http.StatusOK {
		t.Fatalf("comment %.80q: delivery answered %d: %s", body, d.StatusCode, d.ResponseBody)
	}
	res := commentResult{id: id, calls: e.apiCalls()}
	for _, c := range repo.CommitComments() {
		if c.ID > id && c.CommitID == sha && c.User == e.GitHub.BotLogin() {
			res.replies = append(res.replies, c.Body)
		}
	}
	return res
}

// onlyReply returns the App's single reply, failing the test otherwise.
func (r commentResult) onlyReply(t *testing.T) string {
	t.Helper()
	if len(r.replies) != 1 {
		t.Fatalf("want 1 reply, got %d: %q", len(r.replies), r.replies)
	}
	return r.replies[0]
}

// requireAcknowledged checks that the App put exactly one 👀 reaction on the
// comment, and that it did so before any other GitHub request.
func requireAcknowledged(t *testing.T, e *env, repo *fakegithub.Repo, r commentResult) {
	t.Helper()
	reactions := repo.Reactions(r.id)
	if len(reactions) != 1 || reactions[0].Content != "eyes" || reactions[0].User != e.GitHub.BotLogin() {
		t.Errorf("reactions on the command = %+v, want one eyes by %s", reactions, e.GitHub.BotLogin())
	}
	// The author's role is read first: nothing is written for people who
	// may not run commands. Then the reaction, before anything slow.
	if len(r.calls) < 2 || r.calls[0].Route != roleRoute || !strings.HasSuffix(r.calls[1].Route, "/reactions") || r.calls[1].Method != http.MethodPost {
		t.Errorf("the role read and the reaction were not the first GitHub requests:\n%s", routes(r.calls))
	}
}

// roleRoute is the read of a commenter's role.
const roleRoute = "GET /repos/{owner}/{repo}/collaborators/{username}/permission"

// requireNothingDone checks that a comment got no reaction, no reply and
// cost no GitHub request.
func requireNothingDone(t *testing.T, repo *fakegithub.Repo, r commentResult) {
	t.Helper()
	if len(r.calls) != 0 {
		t.Errorf("the comment cost %d GitHub requests, want none:\n%s", len(r.calls), routes(r.calls))
	}
	if got := repo.Reactions(r.id); len(got) != 0 {
		t.Errorf("reactions = %+v, want none", got)
	}
	if len(r.replies) != 0 {
		t.Errorf("replies = %q, want none", r.replies)
	}
}

// requireNothingCreated checks that no ref moved or appeared since refs and
// that no pull request is open.
func requireNothingCreated(t *testing.T, repo *fakegithub.Repo, refs map[string]string) {
	t.Helper()
	if now := repo.Refs(); !maps.Equal(now, refs) {
		t.Errorf("refs changed:\nbefore %v\nafter  %v", refs, now)
	}
	if prs := repo.PullRequests(); len(prs) != 0 {
		t.Errorf("pull requests were opened: %+v", prs)
	}
}

// rollbackPull returns the only pull request from branch, failing the test
// when there is not exactly one.
func rollbackPull(t *testing.T, repo *fakegithub.Repo, branch string) fakegithub.PullRequest {
	t.Helper()
	var found []fakegithub.PullRequest
	for _, pr := range repo.PullRequests() {
		if pr.Head == branch {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want 1 pull request from %s, got %+v", branch, repo.PullRequests())
	}
	return found[0]
}

// requireMentions fails for every phrase text lacks.
func requireMentions(t *testing.T, what, text string, phrases ...string) {
	t.Helper()
	for _, p := range phrases {
		if !strings.Contains(text, p) {
			t.Errorf("%s does not say %q:\n%s", what, p, text)
		}
	}
}

// fakeWebURL is where the embedded GitHub's html_url links point: the
// default of fakegithub.Options.WebURL, which the sandbox keeps.
const fakeWebURL = "https://github.com"

// pullLink is how a reply links pull request number of repo.
func pullLink(repo *fakegithub.Repo, number int) string {
	return fmt.Sprintf("[#%d](%s/%s/pull/%d)", number, fakeWebURL, repo.FullName(), number)
}

func TestCommentCommandOpensTheRollbackPullRequest(t *testing.T) {
	type where int
	const (
		onIssue where = iota
		onPullRequest
		onCommit
	)
	for name, tc := range map[string]struct {
		where where
		body  func(h commentHistory) string
	}{
		"issue, full sha":                 {onIssue, func(h commentHistory) string { return "/rollback " + h.apiJS2 }},
		"issue, abbreviated sha":          {onIssue, func(h commentHistory) string { return "/rollback " + h.apiJS2[:7] }},
		"issue, upper-case sha":           {onIssue, func(h commentHistory) string { return "/ROLLBACK " + strings.ToUpper(h.apiJS2[:12]) }},
		"issue, among other lines":        {onIssue, func(h commentHistory) string { return "api-js is broken.\n\n/rollback " + h.apiJS2[:7] + "\n\nthanks" }},
		"issue, image full name":          {onIssue, func(commentHistory) string { return "/rollback " + apiJS }},
		"issue, image last path element":  {onIssue, func(commentHistory) string { return "/rollback api-js" }},
		"pull request conversation":       {onPullRequest, func(h commentHistory) string { return "/rollback " + h.apiJS2[:7] }},
		"pull request conversation image": {onPullRequest, func(commentHistory) string { return "/rollback api-js" }},
		"commit comment alone":            {onCommit, func(commentHistory) string { return "/rollback" }},
		"commit comment, sha":             {onCommit, func(h commentHistory) string { return "/rollback " + h.apiJS2 }},
		"commit comment, image":           {onCommit, func(commentHistory) string { return "/rollback api-js" }},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			h := releaseHistory(t, e, e.repo)
			body := tc.body(h)
			branch := "rollback-" + h.apiJS2[:7]

			// The thread the command is typed in: an issue, a pull request
			// from another branch, or the release commit.
			var number int
			switch tc.where {
			case onIssue:
				number = e.repo.AddIssue("api-js is broken")
			case onPullRequest:
				main, _ := e.repo.Ref("main")
				if err := e.repo.SetRef("docs", main); err != nil {
					t.Fatal(err)
				}
				if _, err := e.repo.Commit("docs", fakegithub.CommitSpec{Message: "Document the rollback", Author: sandbox.Human,
					Files: map[string]*fakegithub.File{"docs/rollback.md": {Content: "Comment /rollback.\n"}}}); err != nil {
					t.Fatal(err)
				}
				var err error
				if number, err = e.repo.OpenPullRequest(fakegithub.PullRequestSpec{Title: "Docs", Head: "docs", User: sandbox.Human.Login}); err != nil {
					t.Fatal(err)
				}
			}
			say := func() commentResult {
				if tc.where == onCommit {
					return commandCommitComment(t, e, e.repo.Repo, h.apiJS2, sandbox.Human.Login, body)
				}
				return commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, body)
			}

			first := say()
			requireAcknowledged(t, e, e.repo.Repo, first)
			pr := rollbackPull(t, e.repo.Repo, branch)
			if pr.Base != "main" || !strings.Contains(pr.Title, "api-js to "+apiJSSecondTag) {
				t.Errorf("pull request %+v does not roll api-js back to %s on main", pr, apiJSSecondTag)
			}
			head, _ := e.repo.Ref("heads/" + branch)
			if c, err := e.repo.CommitInfo(head); err != nil || !strings.Contains(c.Message, "This reverts commit "+h.apiJS2+".") {
				t.Errorf("branch %s holds %+v (%v), not the revert of %s", branch, c, err, h.apiJS2)
			}
			requireMentions(t, "the reply", first.onlyReply(t),
				"Opened "+pullLink(e.repo.Repo, pr.Number), "for @alice", h.apiJS2[:7], "`"+branch+"`", apiJSThirdTag)

			// The same command again, and then the button, find that pull
			// request instead of opening another.
			again := say()
			requireAcknowledged(t, e, e.repo.Repo, again)
			requireMentions(t, "the reply to the repeated command", again.onlyReply(t),
				"already open: "+pullLink(e.repo.Repo, pr.Number), "`"+branch+"`")
			if strings.Contains(again.replies[0], "Opened") {
				t.Errorf("the repeated command claims a new pull request:\n%s", again.replies[0])
			}
			run := e.rollbackRun(t, e.repo.Repo, h.apiJS2)
			if _, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, report.ActionRollback, sandbox.Human.Login); err != nil {
				t.Fatal(err)
			}
			run = e.rollbackRun(t, e.repo.Repo, h.apiJS2)
			requireMentions(t, "the check run after the click", run.Output.Summary, "already open: "+pullLink(e.repo.Repo, pr.Number))
			if again := rollbackPull(t, e.repo.Repo, branch); again.Number != pr.Number {
				t.Errorf("the click found #%d, the command opened #%d", again.Number, pr.Number)
			}
		})
	}
}

func TestCommentCommandRefusalsCreateNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		// setup prepares acme/deploy and returns the command, who types it
		// and the phrases the reply must hold.
		setup func(t *testing.T, e *env) (body, login string, want []string)
	}{
		"not a release commit": {func(t *testing.T, e *env) (string, string, []string) {
			sha := editReadme(t, e)
			return "/rollback " + sha, sandbox.Human.Login, []string{"Nothing was created", "commit " + sha[:7] + " is not a Flux release commit"}
		}},
		"not on the default branch": {func(t *testing.T, e *env) (string, string, []string) {
			main, _ := e.repo.Ref("main")
			if err := e.repo.SetRef("staging", main); err != nil {
				t.Fatal(err)
			}
			content, err := e.repo.ReadFile("main", sandbox.KustomizationPath)
			if err != nil {
				t.Fatal(err)
			}
			sha, err := e.repo.Commit("staging", fakegithub.CommitSpec{
				Message: "Auto-release " + apiJS + ":" + apiJSSecondTag, Author: sandbox.FluxV1,
				Files: map[string]*fakegithub.File{sandbox.KustomizationPath: {Content: strings.Replace(content, apiJSFirstTag, apiJSSecondTag, 1)}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return "/rollback " + sha[:7], sandbox.Human.Login, []string{"commit " + sha[:7] + " is not on branch main"}
		}},
		"unknown sha": {func(*testing.T, *env) (string, string, []string) {
			return "/rollback 0123456789abcdef", sandbox.Human.Login, []string{"no commit 0123456789abcdef in this repository"}
		}},
		"image never released": {func(t *testing.T, e *env) (string, string, []string) {
			releaseHistory(t, e, e.repo)
			return "/rollback frontend", sandbox.Human.Login, []string{"no release of frontend among the last 100 commits of main"}
		}},
		"conflict with a later edit": {func(t *testing.T, e *env) (string, string, []string) {
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Pin api-js", func(s string) string {
				return strings.Replace(s, apiJSSecondTag, "pinned-1", 1)
			}); err != nil {
				t.Fatal(err)
			}
			return "/rollback " + sha, sandbox.Human.Login, []string{
				"reverting " + sha[:7] + " conflicts with later changes on the branch",
				"- `" + sandbox.KustomizationPath + "`",
				"<<<<<<< branch head", "  newTag: pinned-1", "||||||| release commit", "  newTag: " + apiJSSecondTag,
				"=======\n  newTag: " + apiJSFirstTag, ">>>>>>> before the release",
			}
		}},
		"conflict with a later release": {func(t *testing.T, e *env) (string, string, []string) {
			h := releaseHistory(t, e, e.repo)
			return "/rollback " + h.apiJS1, sandbox.Human.Login, []string{
				"conflicts with later changes", "api-js is now at", "released in " + h.apiJS2[:7],
				"To restore them, comment:", "/rollback " + apiJS + " to " + apiJSFirstTag,
			}
		}},
		"nothing to revert": {func(t *testing.T, e *env) (string, string, []string) {
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.repo.EditByHand(e.ctx, sandbox.KustomizationPath, "Undo the release by hand", func(s string) string {
				return strings.Replace(s, apiJSSecondTag, apiJSFirstTag, 1)
			}); err != nil {
				t.Fatal(err)
			}
			return "/rollback " + sha, sandbox.Human.Login, []string{"the changes of " + sha[:7] + " are already undone on the branch"}
		}},
		"read role": {func(t *testing.T, e *env) (string, string, []string) {
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			e.repo.SetPermission("bob", "read")
			return "/rollback " + sha, "bob", []string{"@\u200bbob has the \"read\" role; rolling back needs \"write\" or higher"}
		}},
		"not a collaborator": {func(t *testing.T, e *env) (string, string, []string) {
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			// Anyone may comment on a public repository: nothing is written
			// for people with no access of their own.
			return "/rollback " + sha, "mallory", nil
		}},
		"write role where maintain is required": {func(t *testing.T, e *env) (string, string, []string) {
			writeRepoConfig(t, e.repo.Repo, "version: 1\nminimum_role: maintain\n")
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			return "/rollback " + sha, sandbox.Human.Login, []string{"@\u200balice has the \"write\" role; rolling back needs \"maintain\" or higher"}
		}},
		"image never released, read role": {func(t *testing.T, e *env) (string, string, []string) {
			e.repo.SetPermission("bob", "read")
			return "/rollback frontend", "bob", []string{"@\u200bbob has the \"read\" role"}
		}},
		"image command, read role": {func(t *testing.T, e *env) (string, string, []string) {
			releaseHistory(t, e, e.repo)
			e.repo.SetPermission("bob", "read")
			return "/rollback api-js", "bob", []string{"@\u200bbob has the \"read\" role"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			body, login, want := tc.setup(t, e)
			refs := e.repo.Refs()
			number := e.repo.AddIssue("Roll back")
			res := commandIssueComment(t, e, e.repo.Repo, number, login, body)
			if want == nil {
				if len(res.replies) != 0 || len(e.repo.Reactions(res.id)) != 0 {
					t.Errorf("wrote for an outsider: replies %q, reactions %+v", res.replies, e.repo.Reactions(res.id))
				}
				requireNothingCreated(t, e.repo.Repo, refs)
				return
			}
			if login == sandbox.Human.Login {
				requireAcknowledged(t, e, e.repo.Repo, res)
			} else if got := e.repo.Reactions(res.id); len(got) != 0 {
				// Below write: one visible refusal, the reply, and no reaction.
				t.Errorf("reactions = %+v, want none", got)
			}
			reply := res.onlyReply(t)
			requireMentions(t, "the reply", reply, want...)
			if !strings.HasPrefix(reply, "Nothing was created: ") {
				t.Errorf("the reply does not start by saying nothing was created:\n%s", reply)
			}
			requireNothingCreated(t, e.repo.Repo, refs)
		})
	}
}

// editReadme commits and pushes a person's change of the README: a commit
// that is not a release.
func editReadme(t *testing.T, e *env) string {
	t.Helper()
	sha, err := e.repo.EditByHand(e.ctx, "README.md", "Explain the layout", func(s string) string { return s + "\nOne directory per app.\n" })
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// writeRepoConfig commits the repository's configuration file on main
// without a push, as a change made before the scenario starts.
func writeRepoConfig(t *testing.T, repo *fakegithub.Repo, content string) {
	t.Helper()
	if _, err := repo.Commit("main", fakegithub.CommitSpec{
		Message: "Configure flux-rollback", Author: sandbox.Human,
		Files: map[string]*fakegithub.File{".github/flux-rollback.yml": {Content: content}},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCommentCommandRevertsAnyCommitWhereTheRepositoryAllowsIt(t *testing.T) {
	e := start(t)
	writeRepoConfig(t, e.repo.Repo, "version: 1\nallow_any_commit: true\n")
	sha := editReadme(t, e)
	res := commandCommitComment(t, e, e.repo.Repo, sha, sandbox.Human.Login, "/rollback")
	requireAcknowledged(t, e, e.repo.Repo, res)
	pr := rollbackPull(t, e.repo.Repo, "rollback-"+sha[:7])
	if pr.Title != `Revert "Explain the layout"` {
		t.Errorf("pull request title = %q", pr.Title)
	}
	requireMentions(t, "the reply", res.onlyReply(t), "Opened "+pullLink(e.repo.Repo, pr.Number), sha[:7])
	if c, _ := e.repo.ReadFile("heads/rollback-"+sha[:7], "README.md"); c != "# Deploy configuration\n" {
		t.Errorf("README on the rollback branch = %q", c)
	}
}

func TestCommentHelpAndUnknownCommands(t *testing.T) {
	for name, tc := range map[string]struct {
		onCommit bool
		body     string
		want     string
	}{
		"help":                    {body: "/rollback help", want: command.HelpText()},
		"help on a commit":        {onCommit: true, body: "/Rollback HELP", want: command.HelpText()},
		"unknown subcommand":      {body: "/rollback frobnicate now", want: "I don't know `/rollback frobnicate now`.\n\n" + command.HelpText()},
		"unknown on a commit":     {onCommit: true, body: "/rollback please!", want: "I don't know `/rollback please!`.\n\n" + command.HelpText()},
		"too long to be a commit": {body: "/rollback " + strings.Repeat("a", 41), want: "I don't know `/rollback " + strings.Repeat("a", 41) + "`.\n\n" + command.HelpText()},
		"alone on an issue": {body: "/rollback", want: "`/rollback` alone works on a commit's comments; here, name the commit or the image.\n\n" +
			command.HelpText()},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			refs := e.repo.Refs()
			var res commentResult
			if tc.onCommit {
				main, _ := e.repo.Ref("main")
				res = commandCommitComment(t, e, e.repo.Repo, main, sandbox.Human.Login, tc.body)
			} else {
				res = commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("How?"), sandbox.Human.Login, tc.body)
			}
			requireAcknowledged(t, e, e.repo.Repo, res)
			if got := res.onlyReply(t); got != tc.want {
				t.Errorf("reply = %q, want %q", got, tc.want)
			}
			// Help needs nothing else from the repository: the author's role,
			// the reaction and the reply are the only requests.
			if len(res.calls) != 3 || res.calls[2].Method != http.MethodPost || !strings.HasSuffix(res.calls[2].Route, "/comments") {
				t.Errorf("help took these requests, want the role, the reaction and the reply:\n%s", routes(res.calls))
			}
			requireNothingCreated(t, e.repo.Repo, refs)
		})
	}
}

func TestCommentRepliesEscapeEchoedText(t *testing.T) {
	e := start(t)
	// A tag is echoed from the release commit's diff.
	sha, err := e.repo.ReleaseV1(e.ctx, apiJS, "v1_beta_2")
	if err != nil {
		t.Fatal(err)
	}
	number := e.repo.AddIssue("Roll back")

	res := commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, "/rollback "+sha[:7])
	reply := res.onlyReply(t)
	requireMentions(t, "the reply", reply, `| v1\_beta\_2 |`, `| master-f01225d |`)
	if strings.Contains(reply, "v1_beta_2") {
		t.Errorf("the reply shows the tag unescaped:\n%s", reply)
	}

	for body, want := range map[string]string{
		// A valid image name whose underscores would be emphasis.
		"/rollback my_app__x": `no release of my\_app\_\_x among`,
		// Not a command: echoed as code, whose fence outlasts the backticks.
		"/rollback `x` [link](http://evil.example) @bob <b>": "I don't know `` /rollback `x` [link](http://evil.example) @bob <b> ``.",
	} {
		res := commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, body)
		requireMentions(t, "the reply to "+body, res.onlyReply(t), want)
	}
}

func TestCommentFailureIsToldAndTheDeliveryFails(t *testing.T) {
	e := start(t)
	sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
	if err != nil {
		t.Fatal(err)
	}
	number := e.repo.AddIssue("Roll back")
	// GitHub fails on every attempt the retry policy makes.
	e.GitHub.FailNext(http.MethodPost, "/repos/{owner}/{repo}/git/commits", http.StatusBadGateway, githubapi.DefaultMaxAttempts)
	_, d, err := e.repo.CommentOnIssue(e.ctx, number, sandbox.Human.Login, "/rollback "+sha)
	if err == nil || d.StatusCode != http.StatusInternalServerError {
		t.Fatalf("delivery = %+v, %v; want a failed delivery", d, err)
	}
	comments := e.repo.IssueComments(number)
	reply := comments[len(comments)-1]
	if !reply.ViaApp {
		t.Fatalf("no reply: %+v", comments)
	}
	requireMentions(t, "the reply", reply.Body, "could not be finished because a GitHub request failed", "502", "Repeat the command")
	if _, ok := e.repo.Ref("heads/rollback-" + sha[:7]); ok {
		t.Error("a branch was created although the tree was not")
	}

	// Redelivering the failed delivery, as GitHub's button does, finishes it.
	if d, err := e.GitHub.Redeliver(e.ctx, d.ID); err != nil {
		t.Fatalf("redelivery: %v (%+v)", err, d)
	}
	pr := rollbackPull(t, e.repo.Repo, "rollback-"+sha[:7])
	comments = e.repo.IssueComments(number)
	requireMentions(t, "the reply after the redelivery", comments[len(comments)-1].Body, "Opened "+pullLink(e.repo.Repo, pr.Number))
}

// Ignored comments -----------------------------------------------------------

func TestCommentsWithoutAVisibleCommandAreIgnored(t *testing.T) {
	e := start(t)
	sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
	if err != nil {
		t.Fatal(err)
	}
	refs := e.repo.Refs()
	number := e.repo.AddIssue("Roll back")
	for name, body := range map[string]string{
		"quoted":           "> /rollback " + sha,
		"quoted in a list": "- > /rollback " + sha,
		"fenced code":      "```\n/rollback " + sha + "\n```",
		"tilde fence":      "~~~sh\n/rollback " + sha + "\n~~~",
		"indented code":    "Like this:\n\n    /rollback " + sha,
		"html comment":     "<!--\n/rollback " + sha + "\n-->",
		"inline":           "Shall I /rollback " + sha + "?",
		"inline code":      "Type `/rollback " + sha + "` to roll back.",
		"no command":       "The release looks fine.",
		"other word":       "/rollbacks " + sha,
	} {
		t.Run(name, func(t *testing.T) {
			requireNothingDone(t, e.repo.Repo, commandIssueComment(t, e, e.repo.Repo, number, sandbox.Human.Login, body))
			requireNothingDone(t, e.repo.Repo, commandCommitComment(t, e, e.repo.Repo, sha, sandbox.Human.Login, body))
		})
	}
	requireNothingCreated(t, e.repo.Repo, refs)
}

func TestCommentsByBotsAreIgnored(t *testing.T) {
	e := start(t)
	sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
	if err != nil {
		t.Fatal(err)
	}
	refs := e.repo.Refs()
	number := e.repo.AddIssue("Roll back")
	command := "/rollback " + sha

	t.Run("bot logins", func(t *testing.T) {
		for _, login := range []string{"dependabot[bot]", e.GitHub.BotLogin()} {
			requireNothingDone(t, e.repo.Repo, commandIssueComment(t, e, e.repo.Repo, number, login, command))
			requireNothingDone(t, e.repo.Repo, commandCommitComment(t, e, e.repo.Repo, sha, login, command))
		}
	})

	// GitHub tells bots by their type, and comments a GitHub App made for a
	// person by performed_via_github_app; the fake's own deliveries carry
	// neither for a person, so they are changed and signed here.
	issueDelivery := plainCommentDelivery(t, e, number, "")
	commitDelivery := plainCommentDelivery(t, e, 0, sha)
	for name, tc := range map[string]struct {
		delivery *fakegithub.Delivery
		edit     func(p map[string]any)
	}{
		"issue comment by a user of type Bot": {issueDelivery, func(p map[string]any) {
			setCommentUser(p, "ci-robot", "Bot")
		}},
		"commit comment by a user of type Bot": {commitDelivery, func(p map[string]any) {
			setCommentUser(p, "ci-robot", "Bot")
		}},
		"issue comment by a [bot] login GitHub typed User": {issueDelivery, func(p map[string]any) {
			setCommentUser(p, "legacy-ci[bot]", "User")
		}},
		"issue comment made through another app for a person": {issueDelivery, func(p map[string]any) {
			comment(p)["performed_via_github_app"] = map[string]any{"id": 777, "slug": "chat-ops", "name": "Chat Ops"}
		}},
		"the App's own reply": {issueDelivery, func(p map[string]any) {
			setCommentUser(p, e.GitHub.BotLogin(), "Bot")
			comment(p)["performed_via_github_app"] = map[string]any{"id": sandbox.AppID, "slug": sandbox.AppSlug, "name": "flux-rollback"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			e.GitHub.ResetRequests()
			status := postChangedDelivery(t, e, tc.delivery, func(p map[string]any) {
				comment(p)["body"] = command
				tc.edit(p)
			})
			if status != http.StatusOK {
				t.Fatalf("the app answered %d", status)
			}
			if calls := e.apiCalls(); len(calls) != 0 {
				t.Errorf("the comment cost GitHub requests:\n%s", routes(calls))
			}
		})
	}
	requireNothingCreated(t, e.repo.Repo, refs)
	for _, c := range e.repo.IssueComments(number) {
		if c.ViaApp {
			t.Errorf("the App replied: %+v", c)
		}
	}

	// The same payload from the person is obeyed: the cases above were
	// ignored for their author alone.
	if status := postChangedDelivery(t, e, issueDelivery, func(p map[string]any) { comment(p)["body"] = command }); status != http.StatusOK {
		t.Fatalf("the app answered %d", status)
	}
	rollbackPull(t, e.repo.Repo, "rollback-"+sha[:7])
}

func TestCommentsEditedOrDeletedAreIgnored(t *testing.T) {
	e := start(t)
	sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
	if err != nil {
		t.Fatal(err)
	}
	refs := e.repo.Refs()
	number := e.repo.AddIssue("Roll back")
	issueDelivery := plainCommentDelivery(t, e, number, "")
	commitDelivery := plainCommentDelivery(t, e, 0, sha)
	for name, tc := range map[string]struct {
		delivery *fakegithub.Delivery
		action   string
	}{
		"issue comment edited":   {issueDelivery, "edited"},
		"issue comment deleted":  {issueDelivery, "deleted"},
		"commit comment edited":  {commitDelivery, "edited"},
		"commit comment deleted": {commitDelivery, "deleted"},
	} {
		t.Run(name, func(t *testing.T) {
			e.GitHub.ResetRequests()
			status := postChangedDelivery(t, e, tc.delivery, func(p map[string]any) {
				p["action"] = tc.action
				if tc.action == "edited" {
					p["changes"] = map[string]any{"body": map[string]any{"from": comment(p)["body"]}}
				}
				comment(p)["body"] = "/rollback " + sha
			})
			if status != http.StatusOK {
				t.Fatalf("the app answered %d", status)
			}
			if calls := e.apiCalls(); len(calls) != 0 {
				t.Errorf("the comment cost GitHub requests:\n%s", routes(calls))
			}
		})
	}
	requireNothingCreated(t, e.repo.Repo, refs)

	// The same payload with action created is obeyed: the edits above were
	// ignored for their action alone.
	status := postChangedDelivery(t, e, issueDelivery, func(p map[string]any) { comment(p)["body"] = "/rollback " + sha })
	if status != http.StatusOK {
		t.Fatalf("the app answered %d", status)
	}
	rollbackPull(t, e.repo.Repo, "rollback-"+sha[:7])
}

// plainCommentDelivery posts a comment without a command as alice, on issue
// number or, when sha is set, on that commit, and returns its delivery: a
// real payload for the tests to change.
func plainCommentDelivery(t *testing.T, e *env, number int, sha string) *fakegithub.Delivery {
	t.Helper()
	var d *fakegithub.Delivery
	var err error
	if sha != "" {
		_, d, err = e.repo.CommentOnCommit(e.ctx, sha, sandbox.Human.Login, "Looks fine to me.")
	} else {
		_, d, err = e.repo.CommentOnIssue(e.ctx, number, sandbox.Human.Login, "Looks fine to me.")
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func comment(p map[string]any) map[string]any { return p["comment"].(map[string]any) }

// setCommentUser makes login, of type kind, the comment's author and the
// delivery's sender.
func setCommentUser(p map[string]any, login, kind string) {
	for _, u := range []map[string]any{comment(p)["user"].(map[string]any), p["sender"].(map[string]any)} {
		u["login"], u["type"] = login, kind
		u["id"] = 99000001
	}
}

// postChangedDelivery sends the payload of d, changed by edit, to the app as
// a new delivery signed the way GitHub signs, and returns the app's status.
func postChangedDelivery(t *testing.T, e *env, d *fakegithub.Delivery, edit func(map[string]any)) int {
	t.Helper()
	var payload map[string]any
	if err := json.Unmarshal(d.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	edit(payload)
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return postSignedWebhook(t, e, d.Event, body)
}

// postSignedWebhook delivers body as event with GitHub's headers and
// HMAC SHA-256 signature, and returns the app's status.
func postSignedWebhook(t *testing.T, e *env, event string, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.AppURL+server.WebhookRoute, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	guid := make([]byte, 16)
	if _, err := rand.Read(guid); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(e.WebhookSecret))
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/test")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", hex.EncodeToString(guid))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// Ambiguous abbreviated SHAs ----------------------------------------------------

// The embedded GitHub cannot hold two commits whose SHAs share a prefix of
// 7 hex digits without brute-forcing a collision, and it answers an
// ambiguous prefix as it answers an unknown one. So this test puts a proxy
// between flux-rollback and the embedded GitHub that answers the commit
// lookup of one prefix the way GitHub answers an ambiguous one (422 with a
// message saying so), and checks what reaches the user: the adapter's
// mapping of that answer, and the reply. GitHub's exact wording is not
// documented; the adapter matches "ambiguous" in it.
func TestCommentAmbiguousShortSHAIsRefused(t *testing.T) {
	const prefix = "abcdef1"
	var upstream atomic.Pointer[url.URL]
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(upstream.Load()) }}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/commits/"+prefix) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprintf(w, `{"message":"The provided SHA %s is ambiguous","documentation_url":"https://docs.github.com/rest/commits/commits#get-a-commit"}`, prefix)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	e := start(t, func(c *server.Config) { c.GitHub.V3APIURL = front.URL + "/" })
	u, err := url.Parse(e.GitHubURL)
	if err != nil {
		t.Fatal(err)
	}
	upstream.Store(u)

	if _, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag); err != nil {
		t.Fatal(err)
	}
	refs := e.repo.Refs()
	res := commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Roll back"), sandbox.Human.Login, "/rollback "+strings.ToUpper(prefix))
	requireAcknowledged(t, e, e.repo.Repo, res)
	requireMentions(t, "the reply", res.onlyReply(t), "Nothing was created: "+prefix+" names more than one commit; give more of its SHA.")
	requireNothingCreated(t, e.repo.Repo, refs)
}

// An image command reads the files of the latest commits one request each;
// a release among the newest ones must not cost a read of the whole history.
func TestCommentImageCommandReadsOnlyTheHistoryItNeeds(t *testing.T) {
	notes := func(t *testing.T, e *env, n int) {
		t.Helper()
		for i := range n {
			if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: fmt.Sprintf("Note %d", i), Author: sandbox.Human,
				Files: map[string]*fakegithub.File{"NOTES.md": {Content: fmt.Sprintf("note %d\n", i)}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, tc := range map[string]struct {
		before, after  int // commits that are not releases, before and after the release
		maxCommitReads int
	}{
		// The ten newest commits are read, and the release once more by
		// the revert.
		"release on top of a long history": {before: 60, after: 0, maxCommitReads: 11},
		"release under a few commits":      {before: 0, after: 5, maxCommitReads: 11},
		// Past the first ten commits the search reads up to a hundred.
		"release under many commits": {before: 0, after: 30, maxCommitReads: 10 + 33 + 1},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			notes(t, e, tc.before)
			sha, err := e.repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
			if err != nil {
				t.Fatal(err)
			}
			notes(t, e, tc.after)
			res := commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Roll back"), sandbox.Human.Login, "/rollback api-js")
			rollbackPull(t, e.repo.Repo, "rollback-"+sha[:7])
			reads := 0
			for _, c := range res.calls {
				if c.Route == "GET /repos/{owner}/{repo}/commits/{ref}" {
					reads++
				}
			}
			if reads > tc.maxCommitReads {
				t.Errorf("the command read %d commits, want at most %d:\n%s", reads, tc.maxCommitReads, routes(res.calls))
			}
		})
	}
}

func TestCommentImageCommandFindsFluxV2Releases(t *testing.T) {
	for _, image := range []string{"web", "ghcr.io/acme/web"} {
		t.Run(image, func(t *testing.T) {
			e := start(t)
			h := releaseHistory(t, e, e.repo)
			res := commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Roll back"), sandbox.Human.Login, "/rollback "+image)
			pr := rollbackPull(t, e.repo.Repo, "rollback-"+h.web[:7])
			requireMentions(t, "the reply", res.onlyReply(t), "Opened "+pullLink(e.repo.Repo, pr.Number), h.web[:7])
			// The first commit reverts; the second holds the web image.
			if got, _ := e.repo.ReadFile(rollbackCommit(t, e.repo.Repo, pr), sandbox.DeploymentPath); got != sandbox.SampleDeployment {
				t.Errorf("the rollback's deployment =\n%s\nwant the sample's", got)
			}
			if held, _ := e.repo.ReadFile(pr.HeadSHA, sandbox.DeploymentPath); len(hold.FindHeld([]byte(held))) != 1 {
				t.Errorf("the rollback branch does not hold the web image:\n%s", held)
			}
		})
	}
}

func TestCommentReplyToAHugeCommandFitsInAComment(t *testing.T) {
	e := start(t)
	body := "/rollback " + strings.Repeat("no ", 21600)
	res := commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Roll back"), sandbox.Human.Login, body)
	requireAcknowledged(t, e, e.repo.Repo, res)
	reply := res.onlyReply(t)
	want := "I don't know `/rollback " + strings.Repeat("no ", 63) + "n…`.\n\n" + command.HelpText()
	if reply != want {
		t.Errorf("reply = %.300q, want %.300q", reply, want)
	}

	// A long quote is cut between characters, never inside one.
	res = commandIssueComment(t, e, e.repo.Repo, e.repo.AddIssue("Roll back"), sandbox.Human.Login, "/rollback "+strings.Repeat("é", 200))
	if reply := res.onlyReply(t); !strings.HasPrefix(reply, "I don't know `/rollback "+strings.Repeat("é", 95)+"…`.") {
		t.Errorf("reply = %.300q", reply)
	}
}

// commentRoutes are the requests of `/rollback <sha>` on an issue, for the
// release of TestClickCostListsEveryRequest: the author's role (read once:
// it answers the rollback's own check too), the reaction, the configuration
// with the commit and the head read alongside it, the parent's tree, the
// commit, the branch, the pull request and the reply.
var commentRoutes = []string{
	roleRoute,
	"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
	"GET /repos/{owner}/{repo}/contents/{path}",
	"GET /repos/{owner}/{repo}",
	"GET /repos/{owner}/{repo}/commits/{ref}",
	"GET /repos/{owner}/{repo}/compare/{basehead}",
	"GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
	"POST /repos/{owner}/{repo}/git/commits",
	"POST /repos/{owner}/{repo}/git/refs",
	"POST /repos/{owner}/{repo}/pulls",
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
}

func TestCommentCostListsEveryRequest(t *testing.T) {
	e := start(t, func(c *server.Config) {
		hold := false
		c.Rollback.Defaults.Hold = &hold
	})
	release, err := e.repo.ReleaseV2(e.ctx, "1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	issue := e.repo.AddIssue("Roll back")
	res := commandIssueComment(t, e, e.repo.Repo, issue, sandbox.Human.Login, "/rollback "+release[:7])
	requireAcknowledged(t, e, e.repo.Repo, res)
	rollbackPull(t, e.repo.Repo, "rollback-"+release[:7])
	var got []string
	for _, r := range res.calls {
		got = append(got, r.Route)
	}
	if want := slices.Sorted(slices.Values(commentRoutes)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("the comment made\n%s\nwant (in any order)\n%s", routes(res.calls), strings.Join(commentRoutes, "\n"))
	}
}
