package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

// Installations of the organisation-wide scenario besides the sandbox's own
// (101, the acme organisation).
const (
	globexInstallation  = 102
	initechInstallation = 103
)

// orgScenario is three organisations with the App installed, each with
// several repositories configured differently.
type orgScenario struct {
	// acme has an organisation file (labels, draft, reviewers).
	acmeDeploy   *sandbox.GitOpsRepo // no file: the organisation's applies
	acmePaused   *sandbox.GitOpsRepo // enabled: false
	acmePrefixed *sandbox.GitOpsRepo // branch_prefix, and nothing of the organisation's
	acmeBroken   *sandbox.GitOpsRepo // a misspelt key on line 3
	// globex has a broken organisation file.
	globexDeploy *sandbox.GitOpsRepo // no file: the broken organisation file applies
	globexStrict *sandbox.GitOpsRepo // its own file: minimum_role maintain
	// initech has no file anywhere: the server's defaults apply.
	initechDeploy *sandbox.GitOpsRepo
}

const acmeOrgFile = `version: 1
pull_request:
  labels: [rollback, urgent]
  draft: true
  reviewers: [carol]
`

func startOrgScenario(t *testing.T) (*env, orgScenario) {
	t.Helper()
	e := start(t)
	add := func(installation int64, owner, name, config string) *sandbox.GitOpsRepo {
		t.Helper()
		repo := e.repo
		if owner != "acme" || name != "deploy" {
			var err error
			if repo, err = e.AddGitOpsRepo(installation, owner, name); err != nil {
				t.Fatal(err)
			}
		}
		if config != "" {
			writeRepoConfig(t, repo.Repo, config)
		}
		return repo
	}
	orgFile := func(installation int64, owner, content string) {
		t.Helper()
		dotGitHub := e.GitHub.AddRepo(owner, ".github", fakegithub.RepoOptions{DefaultBranch: "main", Installation: installation})
		if _, err := dotGitHub.Commit("main", fakegithub.CommitSpec{
			Message: "Share the flux-rollback configuration", Author: sandbox.Human,
			Files: map[string]*fakegithub.File{"flux-rollback.yml": {Content: content}},
		}); err != nil {
			t.Fatal(err)
		}
	}

	var s orgScenario
	s.acmeDeploy = add(sandbox.InstallationID, "acme", "deploy", "")
	s.acmePaused = add(sandbox.InstallationID, "acme", "paused", "version: 1\nenabled: false\n")
	s.acmePrefixed = add(sandbox.InstallationID, "acme", "prefixed", "version: 1\nbranch_prefix: flux/rollback-\n")
	s.acmeBroken = add(sandbox.InstallationID, "acme", "broken", "version: 1\npull_request:\n  lables: [rollback]\n")
	orgFile(sandbox.InstallationID, "acme", acmeOrgFile)
	s.acmeDeploy.SetPermission("carol", "write")

	s.globexDeploy = add(globexInstallation, "globex", "deploy", "")
	s.globexStrict = add(globexInstallation, "globex", "strict", "version: 1\nminimum_role: maintain\n")
	orgFile(globexInstallation, "globex", "version: 1\nminimum_role: owner\n")
	s.globexStrict.SetPermission("bob", "maintain")

	s.initechDeploy = add(initechInstallation, "initech", "deploy", "")
	return e, s
}

// releaseAPIJS releases api-js in repo and returns the release commit.
func releaseAPIJS(t *testing.T, e *env, repo *sandbox.GitOpsRepo) string {
	t.Helper()
	sha, err := repo.ReleaseV1(e.ctx, apiJS, apiJSSecondTag)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// configRuns returns the check runs on sha that report a broken
// configuration.
func configRuns(repo *fakegithub.Repo, sha string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == report.ConfigCheckRunName {
			out = append(out, r)
		}
	}
	return out
}

// requireOnlyReads fails when handling a comment wrote anything to GitHub
// but the 👀 reaction and the reply.
func requireOnlyReads(t *testing.T, r commentResult) {
	t.Helper()
	for _, c := range r.calls {
		if c.Method == http.MethodGet || strings.HasSuffix(c.Route, "/reactions") || strings.HasSuffix(c.Route, "/comments") {
			continue
		}
		t.Errorf("unexpected write %s %s", c.Method, c.Path)
	}
}

func TestConfigEachRepositoryFollowsItsEffectiveConfiguration(t *testing.T) {
	e, s := startOrgScenario(t)

	t.Run("organisation file", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.acmeDeploy)
		e.rollbackRun(t, s.acmeDeploy.Repo, sha)
		res := commandCommitComment(t, e, s.acmeDeploy.Repo, sha, sandbox.Human.Login, "/rollback")
		requireAcknowledged(t, e, s.acmeDeploy.Repo, res)
		pr := rollbackPull(t, s.acmeDeploy.Repo, "rollback-"+sha[:7])
		if !pr.Draft || !slices.Equal(pr.Labels, []string{"rollback", "urgent"}) || !slices.Equal(pr.RequestedReviewers, []string{"carol"}) {
			t.Errorf("pull request %+v is not a draft labelled rollback, urgent with carol's review requested", pr)
		}
		requireMentions(t, "the reply", res.onlyReply(t), "Opened "+pullLink(s.acmeDeploy.Repo, pr.Number))
	})

	t.Run("disabled", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.acmePaused)
		if runs := s.acmePaused.CheckRuns(sha); len(runs) != 0 {
			t.Errorf("check runs on a release of a disabled repository: %+v", runs)
		}
		refs := s.acmePaused.Refs()
		res := commandCommitComment(t, e, s.acmePaused.Repo, sha, sandbox.Human.Login, "/rollback")
		requireAcknowledged(t, e, s.acmePaused.Repo, res)
		if got := res.onlyReply(t); got != "flux-rollback is disabled in this repository's configuration." {
			t.Errorf("reply = %q", got)
		}
		requireOnlyReads(t, res)
		requireNothingCreated(t, s.acmePaused.Repo, refs)
	})

	t.Run("own file replaces the organisation's", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.acmePrefixed)
		e.rollbackRun(t, s.acmePrefixed.Repo, sha)
		res := commandIssueComment(t, e, s.acmePrefixed.Repo, s.acmePrefixed.AddIssue("Roll back"), sandbox.Human.Login, "/rollback api-js")
		pr := rollbackPull(t, s.acmePrefixed.Repo, "flux/rollback-"+sha[:7])
		if pr.Draft || len(pr.Labels) != 0 || len(pr.RequestedReviewers) != 0 {
			t.Errorf("pull request %+v took options from the organisation file", pr)
		}
		requireMentions(t, "the reply", res.onlyReply(t), "`flux/rollback-"+sha[:7]+"`")
	})

	t.Run("broken repository file", func(t *testing.T) {
		e.GitHub.ResetRequests()
		sha := releaseAPIJS(t, e, s.acmeBroken)
		// The push reads the file and writes one check run, nothing else.
		for _, c := range e.apiCalls() {
			if c.Method != http.MethodGet && c.Route != "POST /repos/{owner}/{repo}/check-runs" {
				t.Errorf("the push of a repository with a broken file made %s %s", c.Method, c.Path)
			}
		}
		const source = "`acme/broken/.github/flux-rollback.yml@main`"
		if runs := rollbackRuns(s.acmeBroken.Repo, sha); len(runs) != 0 {
			t.Errorf("a Rollback check run despite the broken file: %+v", runs)
		}
		runs := configRuns(s.acmeBroken.Repo, sha)
		if len(runs) != 1 {
			t.Fatalf("want 1 %q check run, got %+v", report.ConfigCheckRunName, s.acmeBroken.CheckRuns(sha))
		}
		requireMentions(t, "the configuration check run", runs[0].Output.Summary, source+": line 3: pull\\_request.lables: unknown key")
		if len(runs[0].Actions) != 0 {
			t.Errorf("the configuration check run offers actions: %+v", runs[0].Actions)
		}

		refs := s.acmeBroken.Refs()
		res := commandCommitComment(t, e, s.acmeBroken.Repo, sha, sandbox.Human.Login, "/rollback")
		requireAcknowledged(t, e, s.acmeBroken.Repo, res)
		reply := res.onlyReply(t)
		requireMentions(t, "the reply", reply, "Not rolled back: the configuration is invalid.", source+": line 3: pull\\_request.lables: unknown key")
		requireOnlyReads(t, res)
		requireNothingCreated(t, s.acmeBroken.Repo, refs)
	})

	t.Run("broken organisation file", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.globexDeploy)
		const source = "`globex/.github/flux-rollback.yml@main`"
		if runs := rollbackRuns(s.globexDeploy.Repo, sha); len(runs) != 0 {
			t.Errorf("a Rollback check run despite the broken file: %+v", runs)
		}
		if runs := configRuns(s.globexDeploy.Repo, sha); len(runs) != 1 || !strings.Contains(runs[0].Output.Summary, source+": line 2: minimum\\_role") {
			t.Errorf("configuration check runs = %+v, want one naming %s line 2", runs, source)
		}
		refs := s.globexDeploy.Refs()
		res := commandIssueComment(t, e, s.globexDeploy.Repo, s.globexDeploy.AddIssue("Roll back"), sandbox.Human.Login, "/rollback "+sha)
		requireMentions(t, "the reply", res.onlyReply(t), "Not rolled back: the configuration is invalid.", source+": line 2: minimum\\_role")
		requireOnlyReads(t, res)
		requireNothingCreated(t, s.globexDeploy.Repo, refs)
	})

	t.Run("minimum role maintain", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.globexStrict)
		e.rollbackRun(t, s.globexStrict.Repo, sha)
		number := s.globexStrict.AddIssue("Roll back")
		refs := s.globexStrict.Refs()
		refused := commandIssueComment(t, e, s.globexStrict.Repo, number, sandbox.Human.Login, "/rollback "+sha[:7])
		requireMentions(t, "the reply to alice", refused.onlyReply(t), "@\u200balice has the \"write\" role; rolling back needs \"maintain\" or higher")
		requireNothingCreated(t, s.globexStrict.Repo, refs)

		obeyed := commandIssueComment(t, e, s.globexStrict.Repo, number, "bob", "/rollback "+sha[:7])
		pr := rollbackPull(t, s.globexStrict.Repo, "rollback-"+sha[:7])
		requireMentions(t, "the reply to bob", obeyed.onlyReply(t), "Opened "+pullLink(s.globexStrict.Repo, pr.Number)+" for @bob")
	})

	t.Run("server defaults", func(t *testing.T) {
		sha := releaseAPIJS(t, e, s.initechDeploy)
		e.rollbackRun(t, s.initechDeploy.Repo, sha)
		res := commandCommitComment(t, e, s.initechDeploy.Repo, sha, sandbox.Human.Login, "/rollback")
		pr := rollbackPull(t, s.initechDeploy.Repo, "rollback-"+sha[:7])
		if pr.Draft || len(pr.Labels) != 0 || len(pr.RequestedReviewers) != 0 {
			t.Errorf("pull request %+v is not a plain one", pr)
		}
		requireMentions(t, "the reply", res.onlyReply(t), "Opened "+pullLink(s.initechDeploy.Repo, pr.Number))
	})

	// Every delivery of the scenario, pushes included, was accepted.
	for _, d := range e.GitHub.Deliveries() {
		if d.StatusCode != http.StatusOK {
			t.Errorf("%s delivery %s answered %d: %s", d.Event, d.GUID, d.StatusCode, d.ResponseBody)
		}
	}
}

func TestConfigInstallationEventsAreLoggedWithoutGitHubCalls(t *testing.T) {
	e := start(t)
	other, err := e.AddGitOpsRepo(globexInstallation, "globex", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	e.GitHub.ResetRequests()

	deliveries := []func() (*fakegithub.Delivery, error){
		func() (*fakegithub.Delivery, error) {
			return e.GitHub.DeliverInstallation(e.ctx, globexInstallation, "created", "globex-admin")
		},
		func() (*fakegithub.Delivery, error) {
			return e.GitHub.DeliverInstallationRepositories(e.ctx, globexInstallation, "removed", "globex-admin", other.Repo)
		},
		func() (*fakegithub.Delivery, error) {
			return e.GitHub.DeliverInstallationRepositories(e.ctx, globexInstallation, "added", "globex-admin", other.Repo)
		},
		func() (*fakegithub.Delivery, error) {
			return e.GitHub.DeliverInstallation(e.ctx, globexInstallation, "deleted", "globex-admin")
		},
	}
	for _, deliver := range deliveries {
		d, err := deliver()
		if err != nil {
			t.Fatal(err)
		}
		if d.StatusCode != http.StatusOK {
			t.Errorf("%s %s answered %d: %s", d.Event, d.Action, d.StatusCode, d.ResponseBody)
		}
	}
	if calls := e.GitHub.Requests(); len(calls) != 0 {
		t.Errorf("installation events made GitHub requests:\n%s", routes(calls))
	}

	type logLine struct {
		Message      string   `json:"message"`
		Action       string   `json:"action"`
		Installation int64    `json:"installation_id"`
		Account      string   `json:"account"`
		Repositories []string `json:"repositories"`
		Added        []string `json:"repositories_added"`
		Removed      []string `json:"repositories_removed"`
	}
	var got []logLine
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var l logLine
		if json.Unmarshal([]byte(line), &l) == nil && strings.HasPrefix(l.Message, "installation") && l.Installation == globexInstallation {
			got = append(got, l)
		}
	}
	want := []logLine{
		{Message: "installation changed", Action: "created", Installation: globexInstallation, Account: "globex", Repositories: []string{"globex/deploy"}},
		{Message: "installation repositories changed", Action: "removed", Installation: globexInstallation, Account: "globex", Added: []string{}, Removed: []string{"globex/deploy"}},
		{Message: "installation repositories changed", Action: "added", Installation: globexInstallation, Account: "globex", Added: []string{"globex/deploy"}, Removed: []string{}},
		{Message: "installation changed", Action: "deleted", Installation: globexInstallation, Account: "globex", Repositories: []string{"globex/deploy"}},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("installation log lines:\n got %s\nwant %s", gotJSON, wantJSON)
	}
}

// A file broken after the release stops the button too: the check run says
// which file and line, and nothing is created.
func TestConfigBrokenAfterTheReleaseStopsTheButton(t *testing.T) {
	e := start(t)
	sha := releaseAPIJS(t, e, e.repo)
	run := e.rollbackRun(t, e.repo.Repo, sha)
	writeRepoConfig(t, e.repo.Repo, "version: 1\nminimum_role: writer\n")
	refs := e.repo.Refs()

	d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, "rollback", sandbox.Human.Login)
	if err != nil {
		t.Fatalf("click: %v (%+v)", err, d)
	}
	run = e.rollbackRun(t, e.repo.Repo, sha)
	requireMentions(t, "the check run", run.Output.Title+"\n"+run.Output.Summary,
		"the configuration is invalid", "`acme/deploy/.github/flux-rollback.yml@main`: line 2: minimum\\_role")
	requireNothingCreated(t, e.repo.Repo, refs)
}
