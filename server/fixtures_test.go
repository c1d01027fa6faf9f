package server

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"
)

type installationGetter interface {
	GetInstallation() *github.Installation
}

// TestWebhookFixturesDecode checks that every fixture is a payload go-github
// decodes as the event its file name says, with the fields the handlers use.
func TestWebhookFixturesDecode(t *testing.T) {
	checks := map[string]func(t *testing.T, event any){
		"push.json": func(t *testing.T, e any) {
			p := e.(*github.PushEvent)
			if p.GetRef() != "refs/heads/master" || p.GetAfter() != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" ||
				len(p.Commits) != 1 || p.GetRepo().GetFullName() != "Codertocat/Hello-World" {
				t.Errorf("push: ref %s after %s, %d commits, repo %s", p.GetRef(), p.GetAfter(), len(p.Commits), p.GetRepo().GetFullName())
			}
		},
		"check_run.requested_action.json": func(t *testing.T, e any) {
			c := e.(*github.CheckRunEvent)
			if c.GetAction() != "requested_action" || c.GetRequestedAction().Identifier != "lgtm|26764" ||
				c.GetCheckRun().GetHeadSHA() != "5bd5f196a46b8222fb7484f05faba41a73cf34bd" {
				t.Errorf("check_run: %s %+v %s", c.GetAction(), c.GetRequestedAction(), c.GetCheckRun().GetHeadSHA())
			}
		},
		"check_run.rerequested.json": func(t *testing.T, e any) {
			c := e.(*github.CheckRunEvent)
			if c.GetAction() != "rerequested" || c.GetCheckRun().GetHeadSHA() != "d6fde92930d4715a2b49857d24b940956b26d2d3" ||
				c.GetRepo().GetFullName() != "github/hello-world" {
				t.Errorf("check_run: %s %s %s", c.GetAction(), c.GetCheckRun().GetHeadSHA(), c.GetRepo().GetFullName())
			}
		},
		"check_suite.rerequested.json": func(t *testing.T, e any) {
			c := e.(*github.CheckSuiteEvent)
			if c.GetAction() != "rerequested" || c.GetCheckSuite().GetHeadSHA() != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
				t.Errorf("check_suite: %s %s", c.GetAction(), c.GetCheckSuite().GetHeadSHA())
			}
		},
		"issue_comment.created.json": func(t *testing.T, e any) {
			c := e.(*github.IssueCommentEvent)
			if c.GetAction() != "created" || c.GetComment().GetBody() == "" || c.GetIssue().GetNumber() == 0 ||
				c.GetComment().GetUser().GetLogin() == "" {
				t.Errorf("issue_comment: %s %q #%d", c.GetAction(), c.GetComment().GetBody(), c.GetIssue().GetNumber())
			}
		},
		"commit_comment.created.json": func(t *testing.T, e any) {
			c := e.(*github.CommitCommentEvent)
			if c.GetAction() != "created" || c.GetComment().GetCommitID() != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" ||
				c.GetComment().GetBody() == "" {
				t.Errorf("commit_comment: %s %s %q", c.GetAction(), c.GetComment().GetCommitID(), c.GetComment().GetBody())
			}
		},
		"installation.created.json": func(t *testing.T, e any) {
			c := e.(*github.InstallationEvent)
			if c.GetAction() != "created" || c.GetInstallation().GetAccount().GetLogin() != "Codertocat" || len(c.Repositories) != 1 {
				t.Errorf("installation: %s %s %d", c.GetAction(), c.GetInstallation().GetAccount().GetLogin(), len(c.Repositories))
			}
		},
		"installation_repositories.added.json": func(t *testing.T, e any) {
			c := e.(*github.InstallationRepositoriesEvent)
			if c.GetAction() != "added" || len(c.RepositoriesAdded) != 1 || c.RepositoriesAdded[0].GetFullName() != "Codertocat/Space" {
				t.Errorf("installation_repositories: %s %v", c.GetAction(), c.RepositoriesAdded)
			}
		},
		"status.json": func(t *testing.T, e any) {
			c := e.(*github.StatusEvent)
			if c.GetState() != "success" || c.GetContext() != "default" || c.GetSHA() != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" ||
				len(c.Branches) != 3 || c.GetCreatedAt().IsZero() || c.GetRepo().GetFullName() != "Codertocat/Hello-World" {
				t.Errorf("status: %s %s %s, %d branches", c.GetState(), c.GetContext(), c.GetSHA(), len(c.Branches))
			}
		},
		"installation_repositories.removed.json": func(t *testing.T, e any) {
			c := e.(*github.InstallationRepositoriesEvent)
			if c.GetAction() != "removed" || len(c.RepositoriesRemoved) != 1 || c.RepositoriesRemoved[0].GetFullName() != "octocat/Hello-World" {
				t.Errorf("installation_repositories: %s %v", c.GetAction(), c.RepositoriesRemoved)
			}
		},
	}

	files, err := filepath.Glob(filepath.Join("..", "testdata", "webhooks", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	if len(names) != len(checks) {
		t.Errorf("fixtures %v, want one for each of the %d checks", names, len(checks))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			check, ok := checks[name]
			if !ok {
				t.Fatal("fixture without a check")
			}
			data, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", name))
			if err != nil {
				t.Fatal(err)
			}
			eventType, _, _ := strings.Cut(name, ".")
			event, err := github.ParseWebHook(eventType, data)
			if err != nil {
				t.Fatalf("ParseWebHook(%s): %v", eventType, err)
			}
			if ig, ok := event.(installationGetter); !ok || ig.GetInstallation().GetID() == 0 {
				t.Error("no installation id: GitHub sends one in every delivery to an app")
			}
			check(t, event)
		})
	}
}
