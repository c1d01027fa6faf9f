package handlers_test

import (
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

// rerunWays are the two buttons that ask for a commit's check run again:
// "Re-run" on the check run and "Re-run all checks" on its suite.
var rerunWays = map[string]func(e *env, run fakegithub.CheckRun) (*fakegithub.Delivery, error){
	"check_run rerequested": func(e *env, run fakegithub.CheckRun) (*fakegithub.Delivery, error) {
		return e.repo.RerequestCheckRun(e.ctx, run.ID, sandbox.Human.Login)
	},
	"check_suite rerequested": func(e *env, run fakegithub.CheckRun) (*fakegithub.Delivery, error) {
		return e.repo.RerequestCheckSuite(e.ctx, run.SuiteID, sandbox.Human.Login)
	},
}

func TestRerequestRecreatesTheCheckRun(t *testing.T) {
	for name, rerun := range rerunWays {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			pushAnnounceBase(t, e)
			repo := e.repo.Repo
			sha := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
			pushDelivered(t)(repo.Push(e.ctx, "main"))
			first := e.rollbackRun(t, repo, sha)
			// After a click the check run tells of the pull request; a re-run
			// starts over with the release's own wording and button.
			pushDelivered(t)(repo.ClickCheckRunAction(e.ctx, first.ID, report.ActionRollback, sandbox.Human.Login))

			e.GitHub.ResetRequests()
			pushDelivered(t)(rerun(e, first))
			runs := rollbackRuns(repo, sha)
			if len(runs) != 2 {
				t.Fatalf("want the old and a new check run, got %+v", runs)
			}
			fresh := runs[1]
			if fresh.ID == first.ID || fresh.SuiteID != first.SuiteID {
				t.Errorf("new check run %d in suite %d, want a new run in suite %d", fresh.ID, fresh.SuiteID, first.SuiteID)
			}
			pushCheckReleaseRun(t, fresh, "api-js master-f01225d -> master-26a4b87", []string{
				"| gcr.io/track-compliance/api-js | master-f01225d | master-26a4b87 | app/bases/kustomization.yaml:11 |",
			}, "main")
			if fresh.Output != first.Output {
				t.Errorf("the new check run reads\n%+v\nthe first read\n%+v", fresh.Output, first.Output)
			}
			// Configuration, the commit, and the creation: a re-run always
			// creates, so there is no lookup.
			pushCheckCalls(t, e, pushConfigCallsWithoutFile+1+1)
		})
	}
}

func TestRerequestKeepsTheWatchedBranchOfTheRelease(t *testing.T) {
	for name, rerun := range rerunWays {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			repo := e.repo.Repo
			pushCommit(t, repo, "main", sandbox.Human, "Watch staging", map[string]*fakegithub.File{
				".github/flux-rollback.yml": {Content: "version: 1\nbranches: [staging]\n"},
			})
			pushAnnounceBase(t, e)
			base, _ := repo.Ref("main")
			if err := repo.SetRef("staging", base); err != nil {
				t.Fatal(err)
			}
			sha := pushReleaseV1(t, repo, "staging", pushImageAPIJS, "master-2222222")
			pushDelivered(t)(repo.Push(e.ctx, "staging"))
			first := e.rollbackRun(t, repo, sha)

			pushDelivered(t)(rerun(e, first))
			runs := rollbackRuns(repo, sha)
			if len(runs) != 2 {
				t.Fatalf("want the old and a new check run, got %+v", runs)
			}
			pushCheckReleaseRun(t, runs[1], "api-js master-f01225d -> master-2222222", []string{
				"| gcr.io/track-compliance/api-js | master-f01225d | master-2222222 | app/bases/kustomization.yaml:11 |",
			}, "staging")
		})
	}
}

func TestRerequestWithABrokenConfigurationShowsIt(t *testing.T) {
	for name, rerun := range rerunWays {
		t.Run(name, func(t *testing.T) {
			e := start(t)
			pushAnnounceBase(t, e)
			repo := e.repo.Repo
			sha := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
			pushDelivered(t)(repo.Push(e.ctx, "main"))
			first := e.rollbackRun(t, repo, sha)
			// The file breaks later, on a commit that changes no YAML, so
			// the push itself says nothing.
			pushCommit(t, repo, "main", sandbox.Human, "Configure", map[string]*fakegithub.File{
				".github/flux-rollback.yml": {Content: "version: 1\nminimum_role: boss\n"},
				"README.md":                 {Content: "# Deploy\n"},
			})

			pushDelivered(t)(rerun(e, first))
			if runs := rollbackRuns(repo, sha); len(runs) != 1 {
				t.Errorf("want only the first Rollback check run, got %+v", runs)
			}
			var config []fakegithub.CheckRun
			for _, r := range repo.CheckRuns(sha) {
				if r.Name == report.ConfigCheckRunName {
					config = append(config, r)
				}
			}
			if len(config) != 1 {
				t.Fatalf("want one %q check run on %s, got %+v", report.ConfigCheckRunName, sha[:7], repo.CheckRuns(sha))
			}
			for _, want := range []string{".github/flux-rollback.yml", "line 2", "minimum_role"} {
				if !strings.Contains(pushUnescape(config[0].Output.Summary), want) {
					t.Errorf("the summary does not name %q:\n%s", want, config[0].Output.Summary)
				}
			}
		})
	}
}

func TestCheckSuiteRequestedIsLeftToThePush(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	sha := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
	// GitHub asks for a suite on every push; the push event does the work.
	pushDelivered(t)(repo.RequestCheckSuite(e.ctx, sha))
	pushCheckCalls(t, e, 0)
	if runs := repo.CheckRuns(sha); len(runs) != 0 {
		t.Errorf("check runs made for check_suite requested: %+v", runs)
	}
}

func TestCheckSuiteRerequestedInADisabledRepositoryCreatesNothing(t *testing.T) {
	e := start(t)
	pushAnnounceBase(t, e)
	repo := e.repo.Repo
	sha := pushReleaseV1(t, repo, "main", pushImageAPIJS, "master-26a4b87")
	pushDelivered(t)(repo.Push(e.ctx, "main"))
	first := e.rollbackRun(t, repo, sha)
	pushCommit(t, repo, "main", sandbox.Human, "Turn flux-rollback off", map[string]*fakegithub.File{
		".github/flux-rollback.yml": {Content: "version: 1\nenabled: false\n"},
	})

	e.GitHub.ResetRequests()
	pushDelivered(t)(repo.RerequestCheckSuite(e.ctx, first.SuiteID, sandbox.Human.Login))
	if runs := repo.CheckRuns(sha); len(runs) != 1 {
		t.Errorf("want only the first check run, got %+v", runs)
	}
	pushCheckCalls(t, e, pushConfigCallsWithFile)
}
