package fakegithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Webhook deliveries. Every delivery is synchronous: the call returns once
// the app has answered, with the app's status and body, and no lock is held
// while the app works, so it may call the API.

type webhookTarget struct {
	url    string
	secret string
}

// SetWebhook sets the app's webhook URL and secret. Payloads are signed with
// HMAC SHA-256 (X-Hub-Signature-256) and SHA-1 (X-Hub-Signature) when secret
// is not empty.
func (g *GitHub) SetWebhook(url, secret string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hook = webhookTarget{url: url, secret: secret}
}

// Delivery is one webhook delivery, as GitHub records it.
type Delivery struct {
	ID             int64
	GUID           string // X-GitHub-Delivery; kept by redeliveries
	Event          string
	Action         string // "" for events without one (push)
	InstallationID int64
	RepositoryID   int64
	Redelivery     bool
	DeliveredAt    time.Time
	Duration       time.Duration
	RequestHeader  http.Header
	Payload        []byte
	StatusCode     int // 0 when the app could not be reached
	ResponseHeader http.Header
	ResponseBody   []byte
	Err            string // transport error, if any
}

// DeliveryError reports a delivery the app did not accept (a transport
// error or a status outside 2xx).
type DeliveryError struct {
	Delivery *Delivery
}

func (e *DeliveryError) Error() string {
	d := e.Delivery
	if d.Err != "" {
		return fmt.Sprintf("deliver %s webhook %s: %s", d.Event, d.GUID, d.Err)
	}
	return fmt.Sprintf("deliver %s webhook %s: app answered %d: %s", d.Event, d.GUID, d.StatusCode, strings.TrimSpace(string(d.ResponseBody)))
}

// ErrNoWebhook is returned when a delivery is attempted before SetWebhook.
var ErrNoWebhook = errors.New("fakegithub: no webhook URL set")

// ErrNotInstalled is returned for events on a repository the app is not
// installed on: GitHub sends the app nothing about it.
var ErrNotInstalled = errors.New("fakegithub: the app is not installed on the repository")

// Deliveries returns every delivery so far, oldest first.
func (g *GitHub) Deliveries() []Delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Delivery, 0, len(g.deliveries))
	for _, d := range g.deliveries {
		out = append(out, *d)
	}
	return out
}

// newGUID returns a random (version 4) UUID, GitHub's delivery id format.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("fakegithub: read random: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// event is a webhook to send.
type event struct {
	name           string
	action         string
	installationID int64
	repositoryID   int64
	payload        map[string]any
}

// deliver sends ev to the app and records the delivery. Callers must not
// hold g.mu.
func (g *GitHub) deliver(ctx context.Context, ev event) (*Delivery, error) {
	body, err := json.Marshal(ev.payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", ev.name, err)
	}
	return g.send(ctx, &Delivery{
		GUID: newGUID(), Event: ev.name, Action: ev.action,
		InstallationID: ev.installationID, RepositoryID: ev.repositoryID, Payload: body,
	})
}

// send posts d.Payload with GitHub's headers and fills in the outcome.
func (g *GitHub) send(ctx context.Context, d *Delivery) (*Delivery, error) {
	g.mu.Lock()
	hook := g.hook
	d.ID = g.newID()
	g.mu.Unlock()
	if hook.url == "" {
		return nil, ErrNoWebhook
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.url, bytes.NewReader(d.Payload))
	if err != nil {
		return nil, fmt.Errorf("build %s delivery: %w", d.Event, err)
	}
	g.signDelivery(req.Header, d, hook.secret)
	d.RequestHeader = req.Header.Clone()
	start := time.Now()
	resp, err := g.opts.HTTPClient.Do(req)
	d.Duration = time.Since(start)
	if err != nil {
		d.Err = err.Error()
	} else {
		d.StatusCode = resp.StatusCode
		d.ResponseHeader = resp.Header.Clone()
		d.ResponseBody, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			d.Err = fmt.Sprintf("read response: %v", err)
		}
	}
	g.mu.Lock()
	d.DeliveredAt = g.now()
	g.deliveries = append(g.deliveries, d)
	g.mu.Unlock()
	out := *d
	if d.Err != "" || d.StatusCode < 200 || d.StatusCode > 299 {
		return &out, &DeliveryError{Delivery: &out}
	}
	return &out, nil
}

// signDelivery sets GitHub's delivery headers of d on h, signed with secret
// when it is not empty. It reads only what does not change after New.
func (g *GitHub) signDelivery(h http.Header, d *Delivery, secret string) {
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/fakegithub")
	h.Set("X-GitHub-Event", d.Event)
	h.Set("X-GitHub-Delivery", d.GUID)
	h.Set("X-GitHub-Hook-ID", itoa(g.opts.HookID))
	h.Set("X-GitHub-Hook-Installation-Target-ID", itoa(g.opts.AppID))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	if secret != "" {
		mac256 := hmac.New(sha256.New, []byte(secret))
		mac256.Write(d.Payload)
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac256.Sum(nil)))
		mac1 := hmac.New(sha1.New, []byte(secret))
		mac1.Write(d.Payload)
		h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac1.Sum(nil)))
	}
}

// PreparePush moves ref to sha, as PushTo does, and returns the push
// delivery GitHub would send for it, headers signed, without sending it:
// a load generator sends many such deliveries at once, with no work of the
// embedded GitHub in between, and hands each outcome to RecordDelivery so
// that the delivery log (and a redelivery) knows it.
func (r *Repo) PreparePush(ref, sha string) (*Delivery, error) {
	g := r.gh
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok := parseHash(sha)
	if _, err := r.obj.kind(h); !ok || err != nil {
		return nil, fmt.Errorf("prepare push of %s to %s: no such object", ref, sha)
	}
	name := fullRef(ref)
	r.refs[name] = h
	ev, err := r.pushEventLocked(name)
	if err != nil {
		return nil, fmt.Errorf("prepare push of %s: %w", ref, err)
	}
	body, err := json.Marshal(ev.payload)
	if err != nil {
		return nil, fmt.Errorf("encode push payload: %w", err)
	}
	d := &Delivery{
		GUID: newGUID(), Event: ev.name, InstallationID: ev.installationID,
		RepositoryID: ev.repositoryID, Payload: body, RequestHeader: http.Header{},
	}
	g.signDelivery(d.RequestHeader, d, g.hook.secret)
	return d, nil
}

// RecordDelivery adds to the delivery log a delivery the caller sent
// itself (see PreparePush), with its StatusCode, Duration and Err as the
// caller saw them. It returns the delivery's id.
func (g *GitHub) RecordDelivery(d Delivery) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	d.ID = g.newID()
	if d.DeliveredAt.IsZero() {
		d.DeliveredAt = g.now()
	}
	g.deliveries = append(g.deliveries, &d)
	return d.ID
}

// Redeliver sends a recorded delivery again, as the "Redeliver" button does.
func (g *GitHub) Redeliver(ctx context.Context, id int64) (*Delivery, error) {
	g.mu.Lock()
	var orig *Delivery
	for _, d := range g.deliveries {
		if d.ID == id {
			orig = d
		}
	}
	g.mu.Unlock()
	if orig == nil {
		return nil, fmt.Errorf("redeliver %d: no such delivery", id)
	}
	return g.send(ctx, &Delivery{
		GUID: orig.GUID, Event: orig.Event, Action: orig.Action, InstallationID: orig.InstallationID,
		RepositoryID: orig.RepositoryID, Payload: orig.Payload, Redelivery: true,
	})
}

// toMap turns a go-github value into a JSON object so a payload can add or
// null fields that go-github's omitempty tags would drop.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakegithub: encode %T: %v", v, err))
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("fakegithub: decode %T: %v", v, err))
	}
	return m
}

// basePayloadLocked holds what every repository event carries: repository,
// organization (for organization repos), installation and sender.
func (r *Repo) basePayloadLocked(action string, sender *user) (map[string]any, error) {
	g := r.gh
	if r.installationID == 0 {
		return nil, ErrNotInstalled
	}
	p := map[string]any{
		"repository":   g.repoPayloadLocked(r),
		"installation": map[string]any{"id": r.installationID, "node_id": nodeID("Installation", r.installationID)},
		"sender":       toMap(g.userJSON(sender, g.apiURL)),
	}
	if action != "" {
		p["action"] = action
	}
	if r.owner.kind == "Organization" {
		p["organization"] = map[string]any{
			"login": r.owner.login, "id": r.owner.id, "node_id": nodeID("Organization", r.owner.id),
			"url": g.apiURL + "/orgs/" + r.owner.login, "description": nil,
		}
	}
	return p, nil
}

func (r *Repo) eventLocked(name, action string, payload map[string]any) event {
	return event{name: name, action: action, installationID: r.installationID, repositoryID: r.id, payload: payload}
}

var zeroSHA = strings.Repeat("0", 40)

// Push delivers a push webhook for ref ("main", "refs/tags/v1") reporting
// everything that moved since the last push of that ref: commits made with
// Commit, or by the app through the API, are announced this way. The pusher
// is the account of the new head's committer (or author) when known, else
// the repository owner.
func (r *Repo) Push(ctx context.Context, ref string) (*Delivery, error) {
	r.gh.mu.Lock()
	ev, err := r.pushEventLocked(fullRef(ref))
	r.gh.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := r.gh.deliver(ctx, ev)
	if err != nil {
		return d, err
	}
	return d, r.afterPush(ctx, ev)
}

// PushTo moves ref to sha and delivers the push: a forced push when the old
// head is not an ancestor of sha, a branch or tag creation when ref did not
// exist. An empty sha deletes the ref.
func (r *Repo) PushTo(ctx context.Context, ref, sha string) (*Delivery, error) {
	r.gh.mu.Lock()
	name := fullRef(ref)
	if sha == "" {
		delete(r.refs, name)
	} else {
		h, ok := parseHash(sha)
		if _, err := r.obj.kind(h); !ok || err != nil {
			r.gh.mu.Unlock()
			return nil, fmt.Errorf("push %s to %s: no such object", ref, sha)
		}
		r.refs[name] = h
	}
	r.gh.mu.Unlock()
	return r.Push(ctx, ref)
}

// DeleteBranch deletes a branch and delivers the push that says so.
func (r *Repo) DeleteBranch(ctx context.Context, branch string) (*Delivery, error) {
	return r.PushTo(ctx, branch, "")
}

// CommitAndPush makes a commit on branch (see Commit) and delivers its push.
func (r *Repo) CommitAndPush(ctx context.Context, branch string, spec CommitSpec) (string, *Delivery, error) {
	sha, err := r.Commit(branch, spec)
	if err != nil {
		return "", nil, err
	}
	d, err := r.Push(ctx, branch)
	return sha, d, err
}

// afterPush sends what GitHub sends after a push to a branch when
// Options.CheckSuiteOnPush is set: check_suite requested.
func (r *Repo) afterPush(ctx context.Context, push event) error {
	if !r.gh.opts.CheckSuiteOnPush || push.payload["deleted"] == true {
		return nil
	}
	ref, _ := push.payload["ref"].(string)
	if !strings.HasPrefix(ref, "refs/heads/") {
		return nil
	}
	_, err := r.RequestCheckSuite(ctx, push.payload["after"].(string))
	return err
}

// commitPayload renders a commit as push payloads list it.
func (r *Repo) commitPayloadLocked(c *object.Commit) map[string]any {
	g := r.gh
	var added, removed, modified []string
	parentTree := plumbing.ZeroHash
	if len(c.ParentHashes) > 0 {
		if p, err := r.obj.commit(c.ParentHashes[0]); err == nil {
			parentTree = p.TreeHash
		}
	}
	changes, _ := r.obj.diffTrees(parentTree, c.TreeHash)
	for _, fc := range changes {
		switch {
		case fc.from == nil:
			added = append(added, fc.path)
		case fc.to == nil:
			removed = append(removed, fc.path)
		default:
			modified = append(modified, fc.path)
		}
	}
	person := func(s object.Signature) map[string]any {
		m := map[string]any{"name": s.Name, "email": s.Email, "date": s.When.Format(time.RFC3339)}
		if login, ok := g.loginByEmail[strings.ToLower(s.Email)]; ok {
			m["username"] = login
		}
		return m
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return map[string]any{
		"id":        c.Hash.String(),
		"tree_id":   c.TreeHash.String(),
		"distinct":  true,
		"message":   c.Message,
		"timestamp": c.Committer.When.Format(time.RFC3339),
		"url":       g.opts.WebURL + "/" + r.fullName() + "/commit/" + c.Hash.String(),
		"author":    person(c.Author),
		"committer": person(c.Committer),
		"added":     nonNil(added),
		"removed":   nonNil(removed),
		"modified":  nonNil(modified),
	}
}

// maxPushCommits is how many commits GitHub lists in a push webhook's
// payload (the Events API lists 20; webhooks list up to 2,048).
const maxPushCommits = 2048

func (r *Repo) pushEventLocked(ref string) (event, error) {
	g := r.gh
	before, hadBefore := r.announced[ref]
	after, hasAfter := r.refs[ref]
	if !hadBefore && !hasAfter {
		return event{}, fmt.Errorf("ref %s does not exist", ref)
	}
	if hadBefore && hasAfter && before == after {
		return event{}, fmt.Errorf("ref %s has not moved since its last push", ref)
	}
	created, deleted := !hadBefore, !hasAfter
	forced := hadBefore && hasAfter && !r.obj.isAncestor(before, after)

	// The commits new to this ref, oldest first: reachable from the new
	// head and not from the old one (for a new ref: not from any other ref).
	var commits []map[string]any
	var headCommit any
	if hasAfter {
		var hidden []plumbing.Hash
		if hadBefore {
			hidden = append(hidden, before)
		} else {
			for name, h := range r.refs {
				if name != ref {
					hidden = append(hidden, h)
				}
			}
		}
		if !strings.HasPrefix(ref, "refs/tags/") {
			var fresh []*object.Commit
			_ = r.obj.walkCommits([]plumbing.Hash{after}, hidden, func(c *object.Commit) bool {
				fresh = append(fresh, c)
				return true
			})
			for i := len(fresh) - 1; i >= 0; i-- {
				commits = append(commits, r.commitPayloadLocked(fresh[i]))
			}
			if len(commits) > maxPushCommits {
				commits = commits[len(commits)-maxPushCommits:]
			}
		}
		if target, err := r.peelLocked(after); err == nil {
			if c, err := r.obj.commit(target); err == nil {
				headCommit = r.commitPayloadLocked(c)
			}
		}
	}
	if commits == nil {
		commits = []map[string]any{}
	}
	pusher := r.pusherLocked(after, hasAfter)
	p, err := r.basePayloadLocked("", pusher)
	if err != nil {
		return event{}, err
	}
	beforeSHA, afterSHA := zeroSHA, zeroSHA
	if hadBefore {
		beforeSHA = before.String()
	}
	if hasAfter {
		afterSHA = after.String()
	}
	compare := g.opts.WebURL + "/" + r.fullName() + "/compare/" + beforeSHA[:12] + "..." + afterSHA[:12]
	if created {
		compare = g.opts.WebURL + "/" + r.fullName() + "/commit/" + afterSHA[:12]
	}
	// Webhook repositories of push events carry unix timestamps and the
	// owner's name and email.
	repo := p["repository"].(map[string]any)
	repo["created_at"] = r.createdAt.Unix()
	repo["pushed_at"] = g.now().Unix()
	repo["master_branch"] = r.defaultBranch
	if owner, ok := repo["owner"].(map[string]any); ok {
		owner["name"] = r.owner.login
		owner["email"] = nil
	}
	p["ref"] = ref
	p["before"] = beforeSHA
	p["after"] = afterSHA
	p["created"] = created
	p["deleted"] = deleted
	p["forced"] = forced
	p["base_ref"] = nil
	p["compare"] = compare
	p["commits"] = commits
	p["head_commit"] = headCommit
	p["pusher"] = map[string]any{"name": pusher.login, "email": pusher.login + "@users.noreply.github.com"}
	if hasAfter {
		r.announced[ref] = after
	} else {
		delete(r.announced, ref)
	}
	return r.eventLocked("push", "", p), nil
}

// pusherLocked is the account behind a push (see Push).
func (r *Repo) pusherLocked(after plumbing.Hash, ok bool) *user {
	if ok {
		if target, err := r.peelLocked(after); err == nil {
			if c, err := r.obj.commit(target); err == nil {
				for _, email := range []string{c.Committer.Email, c.Author.Email} {
					if login, ok := r.gh.loginByEmail[strings.ToLower(email)]; ok {
						return r.gh.userLocked(login)
					}
				}
			}
		}
	}
	return r.owner
}

// checkSuitePayloadLocked renders a check suite as check_suite and
// check_run webhooks carry it.
func (r *Repo) checkSuitePayloadLocked(s *checkSuite) map[string]any {
	g := r.gh
	status, conclusion := r.suiteStatusLocked(s)
	var conclusionValue any
	if conclusion != "" {
		conclusionValue = conclusion
	}
	var headBranch any
	if s.headBranch != "" {
		headBranch = s.headBranch
	}
	count := 0
	for _, run := range r.checkRuns {
		if run.suite == s {
			count++
		}
	}
	p := map[string]any{
		"id":                      s.id,
		"node_id":                 nodeID("CheckSuite", s.id),
		"head_branch":             headBranch,
		"head_sha":                s.headSHA.String(),
		"status":                  status,
		"conclusion":              conclusionValue,
		"url":                     g.apiURL + "/repos/" + r.fullName() + "/check-suites/" + itoa(s.id),
		"before":                  nil,
		"after":                   s.headSHA.String(),
		"pull_requests":           toList(pullRefsFor(r, s.headSHA, g.apiURL)),
		"app":                     toMap(g.appJSON(g.apiURL)),
		"created_at":              s.createdAt.Format(time.RFC3339),
		"updated_at":              g.now().Format(time.RFC3339),
		"latest_check_runs_count": count,
		"check_runs_url":          g.apiURL + "/repos/" + r.fullName() + "/check-suites/" + itoa(s.id) + "/check-runs",
		"rerequestable":           true,
	}
	if c, err := r.obj.commit(s.headSHA); err == nil {
		p["head_commit"] = map[string]any{
			"id": c.Hash.String(), "tree_id": c.TreeHash.String(), "message": c.Message,
			"timestamp": c.Committer.When.Format(time.RFC3339),
			"author":    map[string]any{"name": c.Author.Name, "email": c.Author.Email},
			"committer": map[string]any{"name": c.Committer.Name, "email": c.Committer.Email},
		}
	}
	return p
}

func toList[T any](items []T) []any {
	out := []any{}
	for _, it := range items {
		out = append(out, toMap(it))
	}
	return out
}

// RequestCheckSuite delivers check_suite "requested" for sha (creating the
// app's check suite for it), as GitHub does after a push to apps with the
// checks permission.
func (r *Repo) RequestCheckSuite(ctx context.Context, sha string) (*Delivery, error) {
	return r.checkSuiteEvent(ctx, sha, 0, "requested", r.Owner())
}

// RerequestCheckSuite delivers check_suite "rerequested" for a suite, as
// the "Re-run all checks" button does.
func (r *Repo) RerequestCheckSuite(ctx context.Context, suiteID int64, user string) (*Delivery, error) {
	return r.checkSuiteEvent(ctx, "", suiteID, "rerequested", user)
}

func (r *Repo) checkSuiteEvent(ctx context.Context, sha string, suiteID int64, action, login string) (*Delivery, error) {
	r.gh.mu.Lock()
	var suite *checkSuite
	if suiteID != 0 {
		for _, s := range r.suites {
			if s.id == suiteID {
				suite = s
			}
		}
	} else if h, ok := parseHash(sha); ok {
		if _, err := r.obj.commit(h); err == nil {
			suite = r.suiteLocked(h)
		}
	}
	if suite == nil {
		r.gh.mu.Unlock()
		return nil, fmt.Errorf("check_suite %s: no check suite for %q/%d", action, sha, suiteID)
	}
	p, err := r.basePayloadLocked(action, r.gh.userLocked(login))
	if err == nil {
		p["check_suite"] = r.checkSuitePayloadLocked(suite)
	}
	ev := r.eventLocked("check_suite", action, p)
	r.gh.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("check_suite %s: %w", action, err)
	}
	return r.gh.deliver(ctx, ev)
}

// checkRunEvent delivers a check_run event for run id.
func (r *Repo) checkRunEvent(ctx context.Context, id int64, action, login string, extra map[string]any, check func(*checkRun) error) (*Delivery, error) {
	r.gh.mu.Lock()
	run, ok := r.checkRuns[id]
	if !ok {
		r.gh.mu.Unlock()
		return nil, fmt.Errorf("check_run %s: no check run %d", action, id)
	}
	if check != nil {
		if err := check(run); err != nil {
			r.gh.mu.Unlock()
			return nil, fmt.Errorf("check_run %s on %d: %w", action, id, err)
		}
	}
	p, err := r.basePayloadLocked(action, r.gh.userLocked(login))
	if err == nil {
		cr := toMap(checkRunJSON(r.gh, r, run, r.gh.apiURL))
		cr["check_suite"] = r.checkSuitePayloadLocked(run.suite)
		cr["conclusion"] = nilIfEmpty(run.conclusion)
		cr["completed_at"] = nil
		if !run.completedAt.IsZero() {
			cr["completed_at"] = run.completedAt.Format(time.RFC3339)
		}
		cr["pull_requests"] = toList(pullRefsFor(r, run.headSHA, r.gh.apiURL))
		p["check_run"] = cr
		for k, v := range extra {
			p[k] = v
		}
	}
	ev := r.eventLocked("check_run", action, p)
	r.gh.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("check_run %s: %w", action, err)
	}
	return r.gh.deliver(ctx, ev)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ClickCheckRunAction delivers check_run "requested_action" as when user
// clicks the button identifier of a check run. It fails when the check run
// has no such button.
func (r *Repo) ClickCheckRunAction(ctx context.Context, checkRunID int64, identifier, user string) (*Delivery, error) {
	return r.checkRunEvent(ctx, checkRunID, "requested_action", user,
		map[string]any{"requested_action": map[string]any{"identifier": identifier}},
		func(run *checkRun) error {
			for _, a := range run.actions {
				if a.Identifier == identifier {
					return nil
				}
			}
			return fmt.Errorf("the check run has no action %q", identifier)
		})
}

// RerequestCheckRun delivers check_run "rerequested" (the "Re-run" button).
func (r *Repo) RerequestCheckRun(ctx context.Context, checkRunID int64, user string) (*Delivery, error) {
	return r.checkRunEvent(ctx, checkRunID, "rerequested", user, nil, nil)
}

// CommentOnIssue stores a comment by user on an issue or pull request and
// delivers issue_comment "created". It returns the comment id.
func (r *Repo) CommentOnIssue(ctx context.Context, number int, login, body string) (int64, *Delivery, error) {
	r.gh.mu.Lock()
	is, ok := r.issues[number]
	if !ok {
		r.gh.mu.Unlock()
		return 0, nil, fmt.Errorf("comment on #%d: no such issue", number)
	}
	author := r.gh.userLocked(login)
	cm := &issueComment{id: r.gh.newID(), issue: number, user: author, body: body, createdAt: r.gh.now()}
	r.issueComments[cm.id] = cm
	p, err := r.basePayloadLocked("created", author)
	if err == nil {
		p["issue"] = r.issuePayloadLocked(is)
		comment := toMap(issueCommentPayload(r.gh, r, cm, r.gh.apiURL))
		comment["reactions"] = r.reactionSummaryLocked(cm.id, comment["url"].(string))
		p["comment"] = comment
	}
	ev := r.eventLocked("issue_comment", "created", p)
	r.gh.mu.Unlock()
	if err != nil {
		return cm.id, nil, fmt.Errorf("comment on #%d: %w", number, err)
	}
	d, err := r.gh.deliver(ctx, ev)
	return cm.id, d, err
}

// issuePayloadLocked renders the issue of an issue_comment payload; pull
// requests carry the pull_request key.
func (r *Repo) issuePayloadLocked(is *issue) map[string]any {
	c := &call{g: r.gh, repo: r, base: r.gh.apiURL}
	m := toMap(c.issueJSON(is))
	// GitHub sends null for an issue without a body and an empty list of
	// assignees.
	m["assignees"] = []any{}
	m["assignee"] = nil
	m["body"] = nilIfEmpty(is.body)
	m["labels"] = toList(c.labelsJSON(is.labels))
	m["closed_at"] = nil
	if !is.closedAt.IsZero() {
		m["closed_at"] = is.closedAt.Format(time.RFC3339)
	}
	m["milestone"] = nil
	m["active_lock_reason"] = nil
	m["performed_via_github_app"] = nil
	m["reactions"] = r.reactionSummaryLocked(is.id, m["url"].(string))
	if is.pr == nil {
		delete(m, "pull_request")
	} else {
		m["draft"] = is.pr.draft
	}
	return m
}

// CommentOnCommit stores a comment by user on a commit and delivers
// commit_comment "created". It returns the comment id.
func (r *Repo) CommentOnCommit(ctx context.Context, sha, login, body string) (int64, *Delivery, error) {
	r.gh.mu.Lock()
	h, err := r.resolveLocked(sha)
	if err != nil {
		r.gh.mu.Unlock()
		return 0, nil, fmt.Errorf("comment on commit %s: %w", sha, err)
	}
	author := r.gh.userLocked(login)
	cm := &commitComment{id: r.gh.newID(), commitID: h.String(), user: author, body: body, createdAt: r.gh.now()}
	r.commitComments[cm.id] = cm
	p, err := r.basePayloadLocked("created", author)
	if err == nil {
		comment := toMap(commitCommentPayload(r.gh, r, cm, r.gh.apiURL))
		comment["path"], comment["position"], comment["line"] = nil, nil, nil
		p["comment"] = comment
	}
	ev := r.eventLocked("commit_comment", "created", p)
	r.gh.mu.Unlock()
	if err != nil {
		return cm.id, nil, fmt.Errorf("comment on commit %s: %w", sha, err)
	}
	d, err := r.gh.deliver(ctx, ev)
	return cm.id, d, err
}

// installationPayloadLocked renders an installation as installation events
// carry it, with the fields GitHub sends as null.
func (g *GitHub) installationPayloadLocked(inst *Installation) map[string]any {
	m := toMap(g.installationJSON(inst, g.apiURL))
	m["single_file_name"] = nil
	m["suspended_at"] = nil
	m["suspended_by"] = nil
	return m
}

// repoSummary is how installation events list repositories.
func repoSummary(r *Repo) map[string]any {
	return map[string]any{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.name, "full_name": r.fullName(), "private": r.private,
	}
}

// DeliverInstallation delivers an installation event ("created", "deleted",
// "suspend", "unsuspend", "new_permissions_accepted") for an installation,
// sent by login.
func (g *GitHub) DeliverInstallation(ctx context.Context, installationID int64, action, login string) (*Delivery, error) {
	g.mu.Lock()
	inst, ok := g.installations[installationID]
	if !ok {
		g.mu.Unlock()
		return nil, fmt.Errorf("installation %s: unknown installation %d", action, installationID)
	}
	repos := []any{}
	for _, r := range g.installationReposLocked(installationID) {
		repos = append(repos, repoSummary(r))
	}
	p := map[string]any{
		"action":       action,
		"installation": g.installationPayloadLocked(inst),
		"repositories": repos,
		"requester":    nil,
		"sender":       toMap(g.userJSON(g.userLocked(login), g.apiURL)),
	}
	ev := event{name: "installation", action: action, installationID: installationID, payload: p}
	g.mu.Unlock()
	return g.deliver(ctx, ev)
}

// DeliverInstallationRepositories moves repositories into ("added") or out
// of ("removed") an installation and delivers installation_repositories.
func (g *GitHub) DeliverInstallationRepositories(ctx context.Context, installationID int64, action, login string, repos ...*Repo) (*Delivery, error) {
	if action != "added" && action != "removed" {
		return nil, fmt.Errorf("installation_repositories: unknown action %q", action)
	}
	g.mu.Lock()
	inst, ok := g.installations[installationID]
	if !ok {
		g.mu.Unlock()
		return nil, fmt.Errorf("installation_repositories %s: unknown installation %d", action, installationID)
	}
	added, removed := []any{}, []any{}
	for _, r := range repos {
		if action == "added" {
			r.installationID = installationID
			added = append(added, repoSummary(r))
		} else {
			r.installationID = 0
			removed = append(removed, repoSummary(r))
		}
	}
	p := map[string]any{
		"action":               action,
		"installation":         g.installationPayloadLocked(inst),
		"repository_selection": "selected",
		"repositories_added":   added,
		"repositories_removed": removed,
		"requester":            nil,
		"sender":               toMap(g.userJSON(g.userLocked(login), g.apiURL)),
	}
	ev := event{name: "installation_repositories", action: action, installationID: installationID, payload: p}
	g.mu.Unlock()
	return g.deliver(ctx, ev)
}

// deliveryJSON renders a delivery for the deliveries API; full adds the
// request and response.
func deliveryJSON(d *Delivery, full bool) map[string]any {
	status := "OK"
	switch {
	case d.Err != "":
		status = "failed to connect to host"
	case d.StatusCode < 200 || d.StatusCode > 299:
		status = "Invalid HTTP Response: " + strconv.Itoa(d.StatusCode)
	}
	m := map[string]any{
		"id":              d.ID,
		"guid":            d.GUID,
		"delivered_at":    d.DeliveredAt.Format(time.RFC3339),
		"redelivery":      d.Redelivery,
		"duration":        d.Duration.Seconds(),
		"status":          status,
		"status_code":     d.StatusCode,
		"event":           d.Event,
		"action":          nilIfEmpty(d.Action),
		"installation_id": d.InstallationID,
		"repository_id":   d.RepositoryID,
		"throttled_at":    nil,
	}
	if d.RepositoryID == 0 {
		m["repository_id"] = nil
	}
	if full {
		flat := func(h http.Header) map[string]string {
			out := map[string]string{}
			for k, v := range h {
				out[k] = strings.Join(v, ", ")
			}
			return out
		}
		m["request"] = map[string]any{"headers": flat(d.RequestHeader), "payload": json.RawMessage(d.Payload)}
		m["response"] = map[string]any{"headers": flat(d.ResponseHeader), "payload": string(d.ResponseBody)}
	}
	return m
}

// listDeliveries serves GET /app/hook/deliveries, newest first, with
// GitHub's cursor pagination (per_page, cursor).
func (g *GitHub) listDeliveries(c *call) {
	list := append([]*Delivery(nil), g.deliveries...)
	sort.Slice(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	if cursor := c.r.URL.Query().Get("cursor"); cursor != "" {
		before, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			c.unprocessable("Invalid cursor")
			return
		}
		for len(list) > 0 && list[0].ID >= before {
			list = list[1:]
		}
	}
	perPage := min(c.queryInt("per_page", 30), 100)
	if len(list) > perPage {
		next := list[perPage].ID
		list = list[:perPage]
		c.w.Header().Set("Link", fmt.Sprintf(`<%s/app/hook/deliveries?per_page=%d&cursor=%d>; rel="next"`, c.apiURL(), perPage, next+1))
	}
	out := []map[string]any{}
	for _, d := range list {
		out = append(out, deliveryJSON(d, false))
	}
	c.json(http.StatusOK, out)
}

func (g *GitHub) deliveryParam(c *call) *Delivery {
	id, err := strconv.ParseInt(c.param("delivery_id"), 10, 64)
	if err != nil {
		c.notFound()
		return nil
	}
	for _, d := range g.deliveries {
		if d.ID == id {
			return d
		}
	}
	c.notFound()
	return nil
}

func (g *GitHub) getDelivery(c *call) {
	if d := g.deliveryParam(c); d != nil {
		c.json(http.StatusOK, deliveryJSON(d, true))
	}
}

// redeliver serves POST /app/hook/deliveries/{delivery_id}/attempts. The
// redelivery happens before the 202 is sent, so a test sees its effects as
// soon as the call returns. It runs without g.mu (route is unlocked).
func (g *GitHub) redeliver(c *call) {
	g.mu.Lock()
	d := g.deliveryParam(c)
	g.mu.Unlock()
	if d == nil {
		return
	}
	// The app's answer is recorded on the new delivery; the API call itself
	// succeeds once the attempt was made.
	// GitHub delivers whatever becomes of the API request.
	if _, err := g.Redeliver(context.WithoutCancel(c.r.Context()), d.ID); err != nil {
		var de *DeliveryError
		if !errors.As(err, &de) {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
	}
	writeJSON(c.w, c.r, http.StatusAccepted, []byte("{}"))
}
