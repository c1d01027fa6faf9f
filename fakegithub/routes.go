package fakegithub

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/go-github/v57/github"
)

// routes is the REST API the fake serves. Every path must appear in GitHub's
// OpenAPI description (testdata/openapi-routes.txt, checked by a test).
func (g *GitHub) routes() []*route {
	app := func(method, path string, h func(*call)) *route {
		return &route{method: method, path: path, auth: authApp, handle: h}
	}
	repo := func(method, path, perm string, h func(*call)) *route {
		return &route{method: method, path: path, auth: authInstallation, perm: perm, handle: h}
	}
	const (
		metadata     = "metadata:read"
		contentsRead = "contents:read"
		contents     = "contents:write"
		checksRead   = "checks:read"
		checks       = "checks:write"
		pullsRead    = "pull_requests:read"
		pulls        = "pull_requests:write"
		statusesRead = "statuses:read"
		statuses     = "statuses:write"
		issuesRead   = "issues:read|pull_requests:read"
		issues       = "issues:write|pull_requests:write"
	)
	routes := []*route{
		app("GET", "/app", g.getApp),
		app("GET", "/app/installations", g.listInstallations),
		app("GET", "/app/installations/{installation_id}", g.getInstallation),
		app("POST", "/app/installations/{installation_id}/access_tokens", g.createAccessToken),
		app("GET", "/repos/{owner}/{repo}/installation", g.getRepoInstallation),
		app("GET", "/app/hook/deliveries", g.listDeliveries),
		app("GET", "/app/hook/deliveries/{delivery_id}", g.getDelivery),
		{method: "POST", path: "/app/hook/deliveries/{delivery_id}/attempts", auth: authApp, unlocked: true, handle: g.redeliver},
		{method: "GET", path: "/rate_limit", auth: authInstallation, handle: g.getRateLimit},
		{method: "POST", path: "/app-manifests/{code}/conversions", auth: authNone, handle: g.convertManifest},

		repo("GET", "/repos/{owner}/{repo}", metadata, g.getRepo),
		repo("GET", "/repos/{owner}/{repo}/branches/{branch}", contentsRead, g.getBranch),
		repo("POST", "/repos/{owner}/{repo}/git/blobs", contents, g.createBlob),
		repo("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", contentsRead, g.getBlob),
		repo("POST", "/repos/{owner}/{repo}/git/trees", contents, g.createTree),
		repo("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", contentsRead, g.getTree),
		repo("POST", "/repos/{owner}/{repo}/git/commits", contents, g.createCommit),
		repo("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", contentsRead, g.getGitCommit),
		repo("GET", "/repos/{owner}/{repo}/git/ref/{ref}", contentsRead, g.getRef),
		repo("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", contentsRead, g.matchingRefs),
		repo("POST", "/repos/{owner}/{repo}/git/refs", contents, g.createRef),
		repo("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", contents, g.updateRef),
		repo("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", contents, g.deleteRef),
		repo("GET", "/repos/{owner}/{repo}/commits", contentsRead, g.listCommits),
		repo("GET", "/repos/{owner}/{repo}/commits/{ref}", contentsRead, g.getCommit),
		repo("GET", "/repos/{owner}/{repo}/compare/{basehead}", contentsRead, g.compare),
		repo("GET", "/repos/{owner}/{repo}/contents/{path}", contentsRead, g.getContents),

		repo("POST", "/repos/{owner}/{repo}/check-runs", checks, g.createCheckRun),
		repo("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", checksRead, g.getCheckRun),
		repo("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", checks, g.updateCheckRun),
		repo("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", checksRead, g.listCheckRuns),
		repo("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", statusesRead, g.listStatuses),
		repo("GET", "/repos/{owner}/{repo}/commits/{ref}/status", statusesRead, g.combinedStatus),
		repo("POST", "/repos/{owner}/{repo}/statuses/{sha}", statuses, g.createStatus),

		repo("POST", "/repos/{owner}/{repo}/pulls", pulls, g.createPull),
		repo("GET", "/repos/{owner}/{repo}/pulls", pullsRead, g.listPulls),
		repo("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", pullsRead, g.getPull),
		repo("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", pulls, g.requestReviewers),
		repo("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", contents, g.mergePull),
		repo("GET", "/repos/{owner}/{repo}/issues", issuesRead, g.listIssues),
		repo("GET", "/repos/{owner}/{repo}/issues/{issue_number}", issuesRead, g.getIssue),
		repo("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", issuesRead, g.listIssueComments),
		repo("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", issues, g.createIssueComment),
		repo("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", issues, g.addLabels),
		repo("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", issues, g.reactToIssueComment),
		repo("POST", "/repos/{owner}/{repo}/comments/{comment_id}/reactions", contents, g.reactToCommitComment),
		repo("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/comments", contentsRead, g.listCommitComments),
		repo("POST", "/repos/{owner}/{repo}/commits/{commit_sha}/comments", contents, g.createCommitComment),
		repo("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", metadata, g.getPermission),
	}
	return routes
}

// bot is the app's bot account.
func (g *GitHub) botLocked() *user { return g.userLocked(g.BotLogin()) }

func ptr[T any](v T) *T { return &v }

func ts(t time.Time) *github.Timestamp { return &github.Timestamp{Time: t.UTC()} }

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("0%d:%s%d", len(kind), kind, id)))
}

// userJSON renders an account as GitHub does in every payload.
func (g *GitHub) userJSON(u *user, apiURL string) *github.User {
	return &github.User{
		Login:      ptr(u.login),
		ID:         ptr(u.id),
		NodeID:     ptr(nodeID(u.kind, u.id)),
		AvatarURL:  ptr(fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.id)),
		HTMLURL:    ptr(g.opts.WebURL + "/" + u.login),
		URL:        ptr(apiURL + "/users/" + u.login),
		Type:       ptr(u.kind),
		SiteAdmin:  ptr(false),
		GravatarID: ptr(""),
	}
}

func (g *GitHub) appJSON(apiURL string) *github.App {
	owner := g.userLocked(g.appOwnerLocked())
	return &github.App{
		ID:          ptr(g.opts.AppID),
		Slug:        ptr(g.opts.AppSlug),
		NodeID:      ptr(nodeID("Integration", g.opts.AppID)),
		Owner:       g.userJSON(owner, apiURL),
		Name:        ptr(g.opts.AppName),
		HTMLURL:     ptr(g.opts.WebURL + "/apps/" + g.opts.AppSlug),
		ExternalURL: ptr(g.opts.WebURL + "/apps/" + g.opts.AppSlug),
		CreatedAt:   ts(time.Unix(1700000000, 0)),
		UpdatedAt:   ts(time.Unix(1700000000, 0)),
		Events:      []string{"check_run", "check_suite", "commit_comment", "issue_comment", "push", "status"},
	}
}

// appOwnerLocked is the account that owns the app: the first installation's
// account, or the app's slug.
func (g *GitHub) appOwnerLocked() string {
	var first *Installation
	for _, inst := range g.installations {
		if first == nil || inst.ID < first.ID {
			first = inst
		}
	}
	if first != nil {
		return first.Account
	}
	return g.opts.AppSlug
}

// appWithPermissions adds the permissions object (go-github's type lists
// every permission; GitHub sends only the granted ones).
type appWithPermissions struct {
	*github.App
	Permissions map[string]string `json:"permissions"`
}

func (g *GitHub) getApp(c *call) {
	c.json(http.StatusOK, appWithPermissions{g.appJSON(c.apiURL()), g.opts.Permissions})
}

type installationJSON struct {
	*github.Installation
	Permissions map[string]string `json:"permissions"`
}

func (g *GitHub) installationJSON(inst *Installation, apiURL string) installationJSON {
	account := g.userLocked(inst.Account)
	id := strconv.FormatInt(inst.ID, 10)
	return installationJSON{&github.Installation{
		ID:                  ptr(inst.ID),
		NodeID:              ptr(nodeID("Installation", inst.ID)),
		AppID:               ptr(g.opts.AppID),
		AppSlug:             ptr(g.opts.AppSlug),
		TargetID:            ptr(account.id),
		Account:             g.userJSON(account, apiURL),
		AccessTokensURL:     ptr(apiURL + "/app/installations/" + id + "/access_tokens"),
		RepositoriesURL:     ptr(apiURL + "/installation/repositories"),
		HTMLURL:             ptr(g.opts.WebURL + "/organizations/" + inst.Account + "/settings/installations/" + id),
		TargetType:          ptr(inst.AccountType),
		RepositorySelection: ptr("selected"),
		Events:              []string{"check_run", "check_suite", "commit_comment", "issue_comment", "push", "status"},
		CreatedAt:           ts(inst.createdAt),
		UpdatedAt:           ts(inst.createdAt),
	}, g.opts.Permissions}
}

func (g *GitHub) listInstallations(c *call) {
	var ids []int64
	for id := range g.installations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := []installationJSON{}
	for _, id := range ids {
		out = append(out, g.installationJSON(g.installations[id], c.apiURL()))
	}
	c.json(http.StatusOK, paginate(c, out))
}

// installationParam finds {installation_id}, answering 404 when unknown.
func (g *GitHub) installationParam(c *call) *Installation {
	id, err := strconv.ParseInt(c.param("installation_id"), 10, 64)
	if err != nil {
		c.notFound()
		return nil
	}
	inst, ok := g.installations[id]
	if !ok {
		c.notFound()
		return nil
	}
	return inst
}

func (g *GitHub) getInstallation(c *call) {
	if inst := g.installationParam(c); inst != nil {
		c.json(http.StatusOK, g.installationJSON(inst, c.apiURL()))
	}
}

func (g *GitHub) getRepoInstallation(c *call) {
	if !g.findRepo(c) {
		return
	}
	inst, ok := g.installations[c.repo.installationID]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, g.installationJSON(inst, c.apiURL()))
}

func (g *GitHub) getRateLimit(c *call) {
	used := g.limits.used["installation:"+strconv.FormatInt(c.token.installationID, 10)]
	core := map[string]int64{
		"limit": rateLimit, "remaining": int64(rateLimit - used), "used": int64(used), "reset": g.limits.resetAt().Unix(),
	}
	c.json(http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
}

// repoJSON renders a repository as GitHub does in API responses.
func (g *GitHub) repoJSON(r *Repo, apiURL string) *github.Repository {
	api := apiURL + "/repos/" + r.fullName()
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	return &github.Repository{
		ID:            ptr(r.id),
		NodeID:        ptr(nodeID("Repository", r.id)),
		Owner:         g.userJSON(r.owner, apiURL),
		Name:          ptr(r.name),
		FullName:      ptr(r.fullName()),
		DefaultBranch: ptr(r.defaultBranch),
		Private:       ptr(r.private),
		Visibility:    ptr(visibility),
		Fork:          ptr(false),
		Archived:      ptr(false),
		Disabled:      ptr(false),
		HTMLURL:       ptr(g.opts.WebURL + "/" + r.fullName()),
		CloneURL:      ptr(g.opts.WebURL + "/" + r.fullName() + ".git"),
		GitURL:        ptr("git://github.com/" + r.fullName() + ".git"),
		SSHURL:        ptr("git@github.com:" + r.fullName() + ".git"),
		URL:           ptr(api),
		GitRefsURL:    ptr(api + "/git/refs{/sha}"),
		CreatedAt:     ts(r.createdAt),
		UpdatedAt:     ts(r.createdAt),
		PushedAt:      ts(r.createdAt),

		Size:                     ptr(0),
		ForksCount:               ptr(0),
		OpenIssuesCount:          ptr(r.openIssuesLocked()),
		OpenIssues:               ptr(r.openIssuesLocked()),
		StargazersCount:          ptr(0),
		WatchersCount:            ptr(0),
		Watchers:                 ptr(0),
		HasIssues:                ptr(true),
		HasProjects:              ptr(true),
		HasWiki:                  ptr(true),
		HasPages:                 ptr(false),
		HasDownloads:             ptr(true),
		IsTemplate:               ptr(false),
		WebCommitSignoffRequired: ptr(false),
		Topics:                   []string{},
	}
}

// repoPayloadLocked renders a repository as webhook payloads carry it: the
// API form plus the fields GitHub sends as null.
func (g *GitHub) repoPayloadLocked(r *Repo) map[string]any {
	m := toMap(g.repoJSON(r, g.apiURL))
	for _, k := range []string{"description", "homepage", "language", "license", "mirror_url"} {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	m["forks"] = 0
	m["topics"] = []any{}
	m["custom_properties"] = map[string]any{}
	return m
}

func (g *GitHub) getRepo(c *call) {
	c.json(http.StatusOK, g.repoJSON(c.repo, c.apiURL()))
}
