package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
	"github.com/fluxrollback/flux-rollback/server"
)

// env is a running sandbox with one sample GitOps repository.
type env struct {
	*sandbox.Sandbox
	repo *sandbox.GitOpsRepo
	logs *sandbox.LogBuffer
	ctx  context.Context
}

// start runs flux-rollback against the embedded GitHub with the sample
// repository acme/deploy.
func start(t *testing.T, configure ...func(*server.Config)) *env {
	t.Helper()
	return startAt(t, nil, configure...)
}

// startAt is start with the embedded GitHub's clock set to now.
func startAt(t *testing.T, now func() time.Time, configure ...func(*server.Config)) *env {
	t.Helper()
	logs := &sandbox.LogBuffer{}
	logger := zerolog.New(logs).Level(zerolog.DebugLevel)
	sb, err := sandbox.Start(context.Background(), sandbox.Options{
		Logger: &logger,
		Now:    now,
		Configure: func(c *server.Config) {
			for _, f := range configure {
				f(c)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs)
		}
	})
	repo, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	return &env{Sandbox: sb, repo: repo, logs: logs, ctx: context.Background()}
}

// rollbackRun returns the Rollback check run on sha, failing the test when
// there is not exactly one.
func (e *env) rollbackRun(t *testing.T, repo *fakegithub.Repo, sha string) fakegithub.CheckRun {
	t.Helper()
	runs := rollbackRuns(repo, sha)
	if len(runs) != 1 {
		t.Fatalf("want 1 Rollback check run on %s, got %d: %+v", sha[:7], len(runs), runs)
	}
	return runs[0]
}

func rollbackRuns(repo *fakegithub.Repo, sha string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == report.CheckRunName {
			out = append(out, r)
		}
	}
	return out
}

// apiCalls counts the GitHub API requests made since the last reset,
// leaving out the installation token exchange.
func (e *env) apiCalls() []fakegithub.Request {
	var out []fakegithub.Request
	for _, r := range e.GitHub.Requests() {
		if strings.HasSuffix(r.Route, "/access_tokens") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// changedPaths lists the paths whose content or mode differs between two
// commits.
func changedPaths(t *testing.T, repo *fakegithub.Repo, a, b string) []string {
	t.Helper()
	paths, err := repo.ChangedPaths(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// click presses a check run button and fails the test on a transport error.
func click(t *testing.T, e *env, run fakegithub.CheckRun, identifier, user string) *fakegithub.Delivery {
	t.Helper()
	d, err := e.repo.ClickCheckRunAction(e.ctx, run.ID, identifier, user)
	var de *fakegithub.DeliveryError
	if err != nil && !errors.As(err, &de) {
		t.Fatal(err)
	}
	return d
}

// rollbackBranches lists the refs under refs/heads/rollback-.
func rollbackBranches(repo *fakegithub.Repo) []string {
	var out []string
	for ref := range repo.Refs() {
		if strings.HasPrefix(ref, "refs/heads/rollback-") {
			out = append(out, ref)
		}
	}
	return out
}
