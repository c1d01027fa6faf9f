package fakegithub_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// TestStatusesAPIAndWebhook posts statuses as Flux does, reads them back
// through the list and combined APIs as GitHub serves them, and checks the
// status webhook against GitHub's own example payload.
func TestStatusesAPIAndWebhook(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	first, _, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "one", Author: fluxAuthor,
		Files: map[string]*fakegithub.File{"a.yaml": {Content: "a: 1\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "two", Author: fluxAuthor,
		Files: map[string]*fakegithub.File{"a.yaml": {Content: "a: 2\n"}}})
	if err != nil {
		t.Fatal(err)
	}

	post := func(sha string, spec fakegithub.StatusSpec) received {
		t.Helper()
		d, err := e.repo.PostStatus(ctx, sha, spec)
		if err != nil {
			t.Fatal(err)
		}
		if d.Event != "status" {
			t.Fatalf("delivered %q", d.Event)
		}
		return rc.last(t)
	}
	post(first, fakegithub.StatusSpec{State: "success", Context: "kustomization/apps/1a2b3c4d", Description: "reconciliation succeeded", Creator: "flux-bot"})
	got := post(first, fakegithub.StatusSpec{State: "failure", Context: "kustomization/apps/1a2b3c4d", Description: "health check failed", Creator: "flux-bot"})
	post(first, fakegithub.StatusSpec{State: "pending", Context: "ci/build", TargetURL: "https://ci.example/1", Creator: "ci-bot"})

	ev, ok := got.payload.(*github.StatusEvent)
	if !ok {
		t.Fatalf("payload %T", got.payload)
	}
	// The first commit is on main, whose head has moved on: GitHub lists the
	// branches that contain the commit, not only those it heads.
	if ev.GetSHA() != first || ev.GetState() != "failure" || ev.GetContext() != "kustomization/apps/1a2b3c4d" ||
		ev.GetDescription() != "health check failed" || ev.GetSender().GetLogin() != "flux-bot" ||
		len(ev.Branches) != 1 || ev.Branches[0].GetName() != "main" || ev.Branches[0].GetCommit().GetSHA() != second ||
		ev.GetCommit().GetSHA() != first || ev.GetInstallation().GetID() != installationID || ev.GetRepo().GetFullName() != "acme/deploy" ||
		ev.GetCreatedAt().IsZero() || ev.GetName() != "acme/deploy" {
		t.Fatalf("status event = %+v", ev)
	}
	if got.raw["target_url"] != nil || got.header.Get("X-GitHub-Event") != "status" {
		t.Fatalf("target_url %v, event header %q", got.raw["target_url"], got.header.Get("X-GitHub-Event"))
	}

	// The fake's payload has the top-level keys of GitHub's example, and
	// organization, which GitHub adds for a repository of an organisation.
	b, err := os.ReadFile("../testdata/webhooks/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var example map[string]any
	if err := json.Unmarshal(b, &example); err != nil {
		t.Fatal(err)
	}
	example["organization"] = nil
	if want, have := keys(example), keys(got.raw); !slices.Equal(want, have) {
		t.Errorf("status payload keys = %v, GitHub's example has %v", have, want)
	}

	client := e.installationClient(t)
	list, _, err := client.Repositories.ListStatuses(ctx, "acme", "deploy", first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].GetContext() != "ci/build" || list[1].GetState() != "failure" || list[2].GetState() != "success" ||
		list[0].GetTargetURL() != "https://ci.example/1" || list[1].GetCreator().GetLogin() != "flux-bot" {
		t.Fatalf("statuses = %+v", list)
	}
	combined, _, err := client.Repositories.GetCombinedStatus(ctx, "acme", "deploy", first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if combined.GetState() != "failure" || combined.GetTotalCount() != 2 || combined.GetSHA() != first ||
		combined.Statuses[0].GetContext() != "ci/build" || combined.Statuses[1].GetState() != "failure" {
		t.Fatalf("combined = %+v", combined)
	}
	// A branch name reads the statuses of its head; a commit without any is
	// pending with none.
	combined, _, err = client.Repositories.GetCombinedStatus(ctx, "acme", "deploy", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if combined.GetState() != "pending" || combined.GetTotalCount() != 0 || combined.GetSHA() != second || len(combined.Statuses) != 0 {
		t.Fatalf("combined of main = %+v", combined)
	}
	_, _, err = client.Repositories.GetCombinedStatus(ctx, "acme", "deploy", "nope", nil)
	wantStatus(t, err, http.StatusUnprocessableEntity, "No commit found for SHA: nope")

	if _, err := e.repo.PostStatus(ctx, first, fakegithub.StatusSpec{State: "done"}); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}

// TestStatusesNeedThePermission answers 403 to an installation without
// statuses:read, as GitHub does.
func TestStatusesNeedThePermission(t *testing.T) {
	key := testKey(t)
	gh := fakegithub.New(fakegithub.Options{AppID: appID, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey,
		Permissions: map[string]string{"contents": "read", "metadata": "read"}})
	srv := newServer(t, gh)
	gh.AddInstallation(installationID, "acme")
	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{DefaultBranch: "main", Installation: installationID})
	sha, err := repo.Commit("main", fakegithub.CommitSpec{Message: "one", Files: map[string]*fakegithub.File{"a": {Content: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{gh: gh, srv: srv, repo: repo, key: key}
	_, _, err = e.installationClient(t).Repositories.ListStatuses(ctx, "acme", "deploy", sha, nil)
	wantStatus(t, err, http.StatusForbidden, "Resource not accessible by integration")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCreateStatusThroughTheAPI posts a status as Flux's Provider does, with
// a token that may write statuses, and receives the webhook GitHub sends
// after answering.
func TestCreateStatusThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	sha, _, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "one", Author: fluxAuthor,
		Files: map[string]*fakegithub.File{"a.yaml": {Content: "a: 1\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	flux := e.client(t, e.gh.IssueTokenWith(installationID, map[string]string{"statuses": "write", "metadata": "read"}))
	in := &github.RepoStatus{State: github.String("failure"), Context: github.String("kustomization/apps/1a2b3c4d"), Description: github.String("health check failed")}
	st, resp, err := flux.Repositories.CreateStatus(ctx, "acme", "deploy", sha, in)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || st.GetState() != "failure" || st.GetContext() != "kustomization/apps/1a2b3c4d" ||
		st.GetCreator().GetLogin() != "flux-rollback[bot]" || st.GetID() == 0 {
		t.Fatalf("created %d %+v", resp.StatusCode, st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := rc.last(t); got.event == "status" {
			if ev := got.payload.(*github.StatusEvent); ev.GetID() != st.GetID() || ev.GetSHA() != sha {
				t.Fatalf("webhook %+v", ev)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no status webhook")
		}
		time.Sleep(10 * time.Millisecond)
	}

	_, _, err = e.installationClient(t).Repositories.CreateStatus(ctx, "acme", "deploy", sha, in)
	wantStatus(t, err, http.StatusForbidden, "Resource not accessible by integration")
	_, _, err = flux.Repositories.CreateStatus(ctx, "acme", "deploy", sha, &github.RepoStatus{State: github.String("broken")})
	wantStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")
	_, _, err = flux.Repositories.CreateStatus(ctx, "acme", "deploy", strings.Repeat("1", 40), in)
	wantStatus(t, err, http.StatusUnprocessableEntity, "No commit found for SHA: "+strings.Repeat("1", 40))
}
