package fakegithub_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

const webhookSecret = "s3cret"

// received is one webhook as the app saw it.
type received struct {
	event   string
	header  http.Header
	raw     map[string]any
	payload any // the go-github event type
}

// receiver is a webhook endpoint that verifies signatures as go-githubapp
// does and records what arrives. onEvent runs inside the request, so it may
// call the fake's API the way a handler would.
type receiver struct {
	mu      sync.Mutex
	got     []received
	onEvent func(r received) int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := github.ValidatePayload(r, []byte(webhookSecret))
	if err != nil {
		http.Error(w, "bad signature: "+err.Error(), http.StatusBadRequest)
		return
	}
	ev, err := github.ParseWebHook(github.WebHookType(r), body)
	if err != nil {
		http.Error(w, "bad payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	got := received{event: github.WebHookType(r), header: r.Header.Clone(), raw: raw, payload: ev}
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	hook := rc.onEvent
	rc.mu.Unlock()
	status := http.StatusOK
	if hook != nil {
		status = hook(got)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("handled"))
}

func (rc *receiver) last(t *testing.T) received {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) == 0 {
		t.Fatal("no webhook received")
	}
	return rc.got[len(rc.got)-1]
}

func withReceiver(t *testing.T, e *env) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	e.gh.SetWebhook(srv.URL, webhookSecret)
	return rc
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPushWebhooks(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	first, d, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "Initial", Author: fluxAuthor,
		Files: map[string]*fakegithub.File{"apps/podinfo.yaml": {Content: "v1\n"}, "old.txt": {Content: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := rc.last(t)
	h := got.header
	if h.Get("X-GitHub-Event") != "push" || !uuidPattern.MatchString(h.Get("X-GitHub-Delivery")) || h.Get("X-GitHub-Hook-ID") == "" ||
		h.Get("X-GitHub-Hook-Installation-Target-ID") != "42" || h.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" ||
		h.Get("Content-Type") != "application/json" || h.Get("User-Agent")[:16] != "GitHub-Hookshot/" {
		t.Fatalf("headers = %v", h)
	}
	if d.StatusCode != http.StatusOK || string(d.ResponseBody) != "handled" || d.GUID != h.Get("X-GitHub-Delivery") {
		t.Fatalf("delivery = %+v", d)
	}
	push := got.payload.(*github.PushEvent)
	if !push.GetCreated() || push.GetBefore() != zero40 || push.GetAfter() != first || len(push.Commits) != 1 {
		t.Fatalf("creating push = %+v", push)
	}

	second, _, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "Update podinfo", Author: fluxAuthor,
		Files: map[string]*fakegithub.File{"apps/podinfo.yaml": {Content: "v2\n"}, "old.txt": nil, "new.txt": {Content: "n"}}})
	if err != nil {
		t.Fatal(err)
	}
	got = rc.last(t)
	push = got.payload.(*github.PushEvent)
	if push.GetRef() != "refs/heads/main" || push.GetBefore() != first || push.GetAfter() != second ||
		push.GetCreated() || push.GetDeleted() || push.GetForced() {
		t.Fatalf("push = ref %s before %s after %s created %v deleted %v forced %v", push.GetRef(), push.GetBefore(), push.GetAfter(), push.GetCreated(), push.GetDeleted(), push.GetForced())
	}
	c := push.Commits[0]
	if len(push.Commits) != 1 || c.GetID() != second || c.GetAuthor().GetLogin() != "fluxcdbot" ||
		len(c.Added) != 1 || c.Added[0] != "new.txt" || len(c.Removed) != 1 || c.Removed[0] != "old.txt" || len(c.Modified) != 1 {
		t.Fatalf("commit = %+v", c)
	}
	if push.GetHeadCommit().GetID() != second || push.GetRepo().GetDefaultBranch() != "main" || push.GetInstallation().GetID() != installationID ||
		push.GetSender().GetLogin() != "fluxcdbot" || push.GetRepo().GetFullName() != "acme/deploy" {
		t.Fatalf("push envelope = %+v", push)
	}

	// Two commits, then one push: both are listed, oldest first.
	third, _ := e.repo.Commit("main", fakegithub.CommitSpec{Message: "3", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "3"}}})
	fourth, _ := e.repo.Commit("main", fakegithub.CommitSpec{Message: "4", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "4"}}})
	if _, err := e.repo.Push(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	push = rc.last(t).payload.(*github.PushEvent)
	if len(push.Commits) != 2 || push.Commits[0].GetID() != third || push.Commits[1].GetID() != fourth {
		t.Fatalf("two-commit push lists %d commits", len(push.Commits))
	}

	if _, err := e.repo.PushTo(ctx, "main", second); err != nil {
		t.Fatal(err)
	}
	push = rc.last(t).payload.(*github.PushEvent)
	if !push.GetForced() || push.GetBefore() != fourth || push.GetAfter() != second || len(push.Commits) != 0 {
		t.Fatalf("forced push = forced %v before %s after %s commits %d", push.GetForced(), push.GetBefore(), push.GetAfter(), len(push.Commits))
	}
	if commits, ok := rc.last(t).raw["commits"].([]any); !ok || len(commits) != 0 {
		t.Fatalf("commits of a push without new commits = %#v, want []", rc.last(t).raw["commits"])
	}

	if _, err := e.repo.PushTo(ctx, "refs/tags/v1.0.0", second); err != nil {
		t.Fatal(err)
	}
	push = rc.last(t).payload.(*github.PushEvent)
	if push.GetRef() != "refs/tags/v1.0.0" || !push.GetCreated() || push.GetHeadCommit().GetID() != second {
		t.Fatalf("tag push = %+v", push)
	}

	branch(t, e.repo, "feature")
	if _, err := e.repo.Push(ctx, "feature"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.repo.DeleteBranch(ctx, "feature"); err != nil {
		t.Fatal(err)
	}
	got = rc.last(t)
	push = got.payload.(*github.PushEvent)
	if !push.GetDeleted() || push.GetAfter() != zero40 || got.raw["head_commit"] != nil {
		t.Fatalf("branch deletion = deleted %v after %s head_commit %v", push.GetDeleted(), push.GetAfter(), got.raw["head_commit"])
	}
	if _, ok := e.repo.Ref("feature"); ok {
		t.Fatal("deleted branch still exists")
	}
	if _, err := e.repo.Push(ctx, "main"); err == nil {
		t.Fatal("a push of a ref that did not move was delivered")
	}
}

const zero40 = "0000000000000000000000000000000000000000"

// TestCheckRunActionRoundTrip plays the app's flow: the app creates a check
// run with a button, the user clicks it, and the app, inside its webhook
// handler, reads the check run back through the API.
func TestCheckRunActionRoundTrip(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	gh := e.installationClient(t)
	run, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "deploy", github.CreateCheckRunOptions{
		Name: "Roll back", HeadSHA: head, Conclusion: github.String("neutral"), ExternalID: github.String("release-1"),
		Actions: []*github.CheckRunAction{{Label: "Roll back", Description: "Revert this release", Identifier: "rollback"}},
		Output:  &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var readBack *github.CheckRun
	rc.onEvent = func(r received) int {
		ev, ok := r.payload.(*github.CheckRunEvent)
		if !ok {
			return http.StatusOK
		}
		got, _, err := gh.Checks.GetCheckRun(ctx, "acme", "deploy", ev.GetCheckRun().GetID())
		if err != nil {
			return http.StatusInternalServerError
		}
		readBack = got
		return http.StatusOK
	}
	e.repo.SetPermission("alice", "write")
	if _, err := e.repo.ClickCheckRunAction(ctx, run.GetID(), "rollback", "alice"); err != nil {
		t.Fatal(err)
	}
	ev := rc.last(t).payload.(*github.CheckRunEvent)
	cr := ev.GetCheckRun()
	if ev.GetAction() != "requested_action" || ev.GetRequestedAction().Identifier != "rollback" || ev.GetSender().GetLogin() != "alice" {
		t.Fatalf("event = action %s, requested %+v, sender %s", ev.GetAction(), ev.GetRequestedAction(), ev.GetSender().GetLogin())
	}
	if cr.GetHeadSHA() != head || cr.GetExternalID() != "release-1" || cr.GetApp().GetID() != appID ||
		cr.GetCheckSuite().GetHeadSHA() != head || cr.GetCheckSuite().GetHeadBranch() != "main" || ev.GetInstallation().GetID() != installationID {
		t.Fatalf("check run payload = %+v", cr)
	}
	if readBack == nil || readBack.GetID() != run.GetID() {
		t.Fatal("the handler could not read the check run back during the delivery")
	}
	if _, err := e.repo.ClickCheckRunAction(ctx, run.GetID(), "no-such-button", "alice"); err == nil {
		t.Fatal("a click on a button the check run does not have was delivered")
	}
	if _, err := e.repo.RerequestCheckRun(ctx, run.GetID(), "alice"); err != nil {
		t.Fatal(err)
	}
	if ev := rc.last(t).payload.(*github.CheckRunEvent); ev.GetAction() != "rerequested" {
		t.Fatalf("rerequest action = %s", ev.GetAction())
	}
	if _, err := e.repo.RerequestCheckSuite(ctx, cr.GetCheckSuite().GetID(), "alice"); err != nil {
		t.Fatal(err)
	}
	suite := rc.last(t).payload.(*github.CheckSuiteEvent)
	if suite.GetAction() != "rerequested" || suite.GetCheckSuite().GetHeadSHA() != head || suite.GetCheckSuite().GetStatus() != "completed" {
		t.Fatalf("check_suite = %+v", suite)
	}
}

func TestCommentWebhooks(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	branch(t, e.repo, "rollback-1")
	pr, err := e.repo.OpenPullRequest(fakegithub.PullRequestSpec{Title: "Roll back", Head: "rollback-1"})
	if err != nil {
		t.Fatal(err)
	}
	issue := e.repo.AddIssue("plain issue")

	id, _, err := e.repo.CommentOnIssue(ctx, pr, "alice", "/rollback")
	if err != nil {
		t.Fatal(err)
	}
	got := rc.last(t)
	ev := got.payload.(*github.IssueCommentEvent)
	if ev.GetAction() != "created" || ev.GetComment().GetID() != id || ev.GetComment().GetBody() != "/rollback" ||
		ev.GetComment().GetUser().GetType() != "User" || !ev.GetIssue().IsPullRequest() || ev.GetIssue().GetNumber() != pr {
		t.Fatalf("issue_comment = %+v", ev)
	}
	if comment := got.raw["comment"].(map[string]any); comment["performed_via_github_app"] != nil {
		t.Fatalf("a user's comment says it came from an app: %v", comment["performed_via_github_app"])
	}
	if _, _, err := e.repo.CommentOnIssue(ctx, issue, e.gh.BotLogin(), "done"); err != nil {
		t.Fatal(err)
	}
	ev = rc.last(t).payload.(*github.IssueCommentEvent)
	if ev.GetComment().GetUser().GetType() != "Bot" || ev.GetIssue().IsPullRequest() {
		t.Fatalf("bot comment on an issue = user %+v, is PR %v", ev.GetComment().GetUser(), ev.GetIssue().IsPullRequest())
	}

	ccID, _, err := e.repo.CommentOnCommit(ctx, head, "bob", "/rollback please")
	if err != nil {
		t.Fatal(err)
	}
	cc := rc.last(t).payload.(*github.CommitCommentEvent)
	if cc.GetComment().GetID() != ccID || cc.GetComment().GetCommitID() != head || cc.GetSender().GetLogin() != "bob" || cc.GetRepo().GetName() != "deploy" {
		t.Fatalf("commit_comment = %+v", cc)
	}
	if got := e.repo.CommitComments(); len(got) != 1 || got[0].Body != "/rollback please" {
		t.Fatalf("CommitComments() = %+v", got)
	}
}

func TestInstallationWebhooks(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	if _, err := e.gh.DeliverInstallation(ctx, installationID, "created", "acme-admin"); err != nil {
		t.Fatal(err)
	}
	inst := rc.last(t).payload.(*github.InstallationEvent)
	if inst.GetAction() != "created" || inst.GetInstallation().GetID() != installationID || len(inst.Repositories) != 1 {
		t.Fatalf("installation = %+v", inst)
	}
	extra := e.gh.AddRepo("acme", "apps", fakegithub.RepoOptions{})
	if _, err := e.gh.DeliverInstallationRepositories(ctx, installationID, "added", "acme-admin", extra); err != nil {
		t.Fatal(err)
	}
	ir := rc.last(t).payload.(*github.InstallationRepositoriesEvent)
	if len(ir.RepositoriesAdded) != 1 || ir.RepositoriesAdded[0].GetFullName() != "acme/apps" || extra.InstallationID() != installationID {
		t.Fatalf("installation_repositories = %+v", ir)
	}
}

func TestDeliveriesAreRecordedAndServed(t *testing.T) {
	e := newEnv(t)
	rc := withReceiver(t, e)
	seed(t, e.repo, map[string]string{"a": "1"})
	n := e.repo.AddIssue("x")
	rc.onEvent = func(received) int { return http.StatusInternalServerError }
	_, d, err := e.repo.CommentOnIssue(ctx, n, "alice", "hello")
	var de *fakegithub.DeliveryError
	if !errors.As(err, &de) || de.Delivery.StatusCode != http.StatusInternalServerError || d.StatusCode != http.StatusInternalServerError {
		t.Fatalf("failed delivery: err %v, delivery %+v", err, d)
	}
	rc.onEvent = nil

	app := e.appClient(t)
	list, _, err := app.Apps.ListHookDeliveries(ctx, nil)
	if err != nil || len(list) != 1 || list[0].GetID() != d.ID || list[0].GetStatusCode() != 500 || list[0].GetEvent() != "issue_comment" || list[0].GetAction() != "created" {
		t.Fatalf("deliveries = %v (%v)", list, err)
	}
	full, _, err := app.Apps.GetHookDelivery(ctx, d.ID)
	if err != nil || full.GetGUID() != d.GUID || full.Request == nil || full.Request.Headers["X-Github-Event"] != "issue_comment" {
		t.Fatalf("delivery = %+v (%v)", full, err)
	}
	_, _, err = app.Apps.RedeliverHookDelivery(ctx, d.ID)
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) {
		t.Fatalf("redeliver: %v, want 202 Accepted", err)
	}
	all := e.gh.Deliveries()
	if len(all) != 2 || !all[1].Redelivery || all[1].GUID != d.GUID || all[1].StatusCode != http.StatusOK {
		t.Fatalf("after redelivery: %+v", all)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 {
		t.Fatalf("app received %d deliveries, want 2", len(rc.got))
	}
	_, _, err = e.installationClient(t).Apps.ListHookDeliveries(ctx, nil)
	wantStatus(t, err, http.StatusUnauthorized, "")
}

func TestNoDeliveryWithoutInstallationOrWebhook(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	if _, err := e.repo.Push(ctx, "main"); !errors.Is(err, fakegithub.ErrNoWebhook) {
		t.Fatalf("push without a webhook: %v", err)
	}
	withReceiver(t, e)
	lonely := e.gh.AddRepo("acme", "lonely", fakegithub.RepoOptions{})
	if _, err := lonely.Commit("main", fakegithub.CommitSpec{Message: "x", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lonely.Push(ctx, "main"); !errors.Is(err, fakegithub.ErrNotInstalled) {
		t.Fatalf("push to a repo without the app: %v", err)
	}
}

func TestCheckSuiteOnPush(t *testing.T) {
	key := testKey(t)
	gh := fakegithub.New(fakegithub.Options{AppID: appID, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey, CheckSuiteOnPush: true})
	e := &env{gh: gh, key: key, srv: newServer(t, gh)}
	gh.AddInstallation(installationID, "acme")
	e.repo = gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{Installation: installationID})
	rc := withReceiver(t, e)
	sha, _, err := e.repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{Message: "x", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	events := []string{}
	for _, r := range rc.got {
		events = append(events, r.event)
	}
	rc.mu.Unlock()
	if len(events) != 2 || events[0] != "push" || events[1] != "check_suite" {
		t.Fatalf("events = %v, want push then check_suite", events)
	}
	suite := rc.last(t).payload.(*github.CheckSuiteEvent)
	if suite.GetAction() != "requested" || suite.GetCheckSuite().GetHeadSHA() != sha || suite.GetCheckSuite().GetHeadBranch() != "main" {
		t.Fatalf("check_suite = %+v", suite.GetCheckSuite())
	}
}

func TestDeliveriesCursorPagination(t *testing.T) {
	e := newEnv(t)
	withReceiver(t, e)
	seed(t, e.repo, map[string]string{"a": "1"})
	n := e.repo.AddIssue("x")
	for i := 0; i < 3; i++ {
		if _, _, err := e.repo.CommentOnIssue(ctx, n, "alice", "hi"); err != nil {
			t.Fatal(err)
		}
	}
	app := e.appClient(t)
	var seen []int64
	opts := &github.ListCursorOptions{PerPage: 2}
	for {
		page, resp, err := app.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			seen = append(seen, d.GetID())
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	all := e.gh.Deliveries()
	if len(seen) != 3 || seen[0] != all[2].ID || seen[2] != all[0].ID {
		t.Fatalf("paged through %v, deliveries %d", seen, len(all))
	}
}

func TestPreparedPushSentByTheCallerAndRecorded(t *testing.T) {
	e := newEnv(t)
	rc := &receiver{onEvent: func(received) int { return http.StatusServiceUnavailable }}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	e.gh.SetWebhook(srv.URL, webhookSecret)
	first := seed(t, e.repo, map[string]string{"a": "1"})
	if _, err := e.repo.PreparePush("main", first); err != nil {
		t.Fatal(err)
	}
	second, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "Change a", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.repo.PreparePush("main", second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.repo.PreparePush("main", second); err == nil {
		t.Error("a second push of an unmoved ref was prepared")
	}
	if len(e.gh.Deliveries()) != 0 || len(rc.got) != 0 {
		t.Fatal("preparing a push delivered it")
	}

	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(d.Payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = d.RequestHeader.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d: the receiver refused the prepared delivery (signature or payload)", resp.StatusCode)
	}
	push, ok := rc.last(t).payload.(*github.PushEvent)
	if !ok || push.GetBefore() != first || push.GetAfter() != second || len(push.Commits) != 1 || push.Commits[0].GetID() != second {
		t.Fatalf("push = %+v", rc.last(t).payload)
	}

	d.StatusCode = resp.StatusCode
	id := e.gh.RecordDelivery(*d)
	list, _, err := e.appClient(t).Apps.ListHookDeliveries(ctx, nil)
	if err != nil || len(list) != 1 || list[0].GetID() != id || list[0].GetGUID() != d.GUID || list[0].GetStatusCode() != http.StatusServiceUnavailable || list[0].GetEvent() != "push" {
		t.Fatalf("deliveries = %v (%v)", list, err)
	}
	rc.mu.Lock()
	rc.onEvent = nil
	rc.mu.Unlock()
	again, err := e.gh.Redeliver(ctx, id)
	if err != nil || again.GUID != d.GUID || !again.Redelivery || again.StatusCode != http.StatusOK {
		t.Fatalf("redelivery = %+v (%v)", again, err)
	}
}
