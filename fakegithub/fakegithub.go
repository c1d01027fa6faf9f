// Package fakegithub is an in-memory GitHub for tests and the demo: it serves
// the part of GitHub's REST v3 API that flux-rollback uses over real HTTP (a
// GitHub value is an http.Handler), keeps git objects with the same SHAs git
// computes, and delivers signed webhooks to the app the way GitHub does.
//
// Responses are shaped like GitHub's (most are built from go-github's own
// types so that go-github decodes every one of them), errors carry GitHub's
// messages and status codes, and every GET answers with an ETag and honours
// If-None-Match, so an HTTP cache in front of the client behaves as it does
// against api.github.com.
//
// A GitHub value is safe for concurrent use. Webhooks are delivered
// synchronously and without holding any lock, so the app may call back into
// the fake while it handles a delivery.
//
// # Playing GitHub in a test
//
//	gh := fakegithub.New(fakegithub.Options{AppID: 42, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey})
//	srv := httptest.NewServer(gh) // or http.ListenAndServe(addr, gh) for the demo
//	gh.SetBaseURL(srv.URL)        // links in webhook payloads
//	gh.SetWebhook(appURL, secret)
//	gh.AddInstallation(101, "acme")
//	repo := gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{Installation: 101})
//	sha, delivery, err := repo.CommitAndPush(ctx, "main", fakegithub.CommitSpec{...})
//	repo.ClickCheckRunAction(ctx, runID, "rollback", "alice")
//	repo.PullRequests(); repo.CheckRuns(sha); gh.Requests(); gh.Deliveries()
//
// # A bad day
//
// The fake fails as GitHub does when asked: FailNext (an error status on a
// route), StallNext (no answer until the client gives up, then 504),
// LoseResponseNext (the write is carried out, the answer never arrives),
// StaleListNext (a list that does not show a fresh write yet),
// SecondaryRateLimitNext and ExhaustRateLimit / ExhaustRateLimitFor /
// ExhaustRateLimitAfter (rate limits with GitHub's headers, the last one
// met in the middle of a flow), SetFaults (a reproducible share of each on
// every installation request) and SetLatency (a delay on every answer).
//
// History can also be built with the git binary and copied in object by
// object (Repo.WriteObject, Repo.SetRef); the SHAs stay the same.
//
// # Where the fake differs from GitHub
//
//   - Changes the app makes through the API (refs, check runs) send no
//     webhooks by themselves; GitHub would send push and check_run created
//     events asynchronously. A test that wants them calls Repo.Push (which
//     reports everything that moved since the last push of the ref).
//   - Commits GitHub signs (created through the API without an author) are
//     reported as verified, but carry no gpgsig header, so their SHA is the
//     unsigned one.
//   - Renames are reported as a removal and an addition.
//   - There is one app; every check suite and check run belongs to it.
//   - A redelivery requested through the API happens before the 202 answer.
//   - Merging a pull request (merge commit or squash) refuses, as not
//     mergeable, a base branch that changed a file the pull request changed
//     too; GitHub would merge their lines where they do not touch. The fake
//     sends no pull_request events: the app does not subscribe to them.
package fakegithub

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultPermissions are the installation permissions used when
// Options.Permissions is nil: what flux-rollback asks for.
var DefaultPermissions = map[string]string{
	"checks":        "write",
	"contents":      "write",
	"issues":        "write",
	"metadata":      "read",
	"pull_requests": "write",
	"statuses":      "read",
}

// Options configures the app that the fake GitHub knows about. There is one
// app per fake: the one under test.
type Options struct {
	AppID        int64
	AppSlug      string         // e.g. "flux-rollback"; the bot user is AppSlug+"[bot]"
	AppName      string         // display name; defaults to AppSlug
	AppPublicKey *rsa.PublicKey // verifies the app's JWTs (RS256)
	// Permissions granted to every installation, e.g. {"contents": "write"}.
	// Routes that need a permission the installation lacks answer 403
	// "Resource not accessible by integration". Nil means DefaultPermissions.
	Permissions map[string]string
	// WebURL is the base of html_url links; default "https://github.com".
	WebURL string
	// Now is the clock; default time.Now. Timestamps are truncated to
	// seconds and reported in UTC, as GitHub does.
	Now func() time.Time
	// HookID is the X-GitHub-Hook-ID of the app's webhook; default 1.
	HookID int64
	// HTTPClient delivers webhooks; default a client with a 30s timeout.
	HTTPClient *http.Client
	// CheckSuiteOnPush makes every push to a branch also deliver
	// check_suite "requested" for the new head, as GitHub does for apps
	// subscribed to check_suite.
	CheckSuiteOnPush bool
}

// GitHub is the in-memory GitHub. Create it with New.
type GitHub struct {
	opts Options
	mux  *http.ServeMux

	mu            sync.Mutex
	apiURL        string // used in webhook payloads: SetBaseURL's, else learned from requests
	apiURLSet     bool
	nextID        int64
	users         map[string]*user // by lower-case login
	loginByEmail  map[string]string
	installations map[int64]*Installation
	repos         map[string]*Repo // by lower-case "owner/name"
	tokens        map[string]*accessToken
	hook          webhookTarget
	deliveries    []*Delivery
	requests      []Request
	failures      []*failure
	limits        rateLimits
	faults        faultState
	manifests     map[string]*pendingManifest // by code, until converted
	registrations []Registration
}

// New returns a fake GitHub that knows the app described by opts.
func New(opts Options) *GitHub {
	if opts.AppName == "" {
		opts.AppName = opts.AppSlug
	}
	if opts.WebURL == "" {
		opts.WebURL = "https://github.com"
	}
	opts.WebURL = strings.TrimSuffix(opts.WebURL, "/")
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HookID == 0 {
		opts.HookID = 1
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Permissions == nil {
		opts.Permissions = DefaultPermissions
	}
	g := &GitHub{
		opts:          opts,
		apiURL:        "https://api.github.com",
		nextID:        1000,
		users:         map[string]*user{},
		loginByEmail:  map[string]string{},
		installations: map[int64]*Installation{},
		repos:         map[string]*Repo{},
		tokens:        map[string]*accessToken{},
	}
	g.limits.reset(g.now())
	g.mux = g.newMux()
	return g
}

// SetBaseURL sets the API base URL used in links of webhook payloads (API
// responses use the host of the request). httptest.Server.URL is typical.
func (g *GitHub) SetBaseURL(url string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.apiURL = strings.TrimSuffix(url, "/")
	g.apiURLSet = true
}

// BotLogin is the login of the app's bot user, e.g. "flux-rollback[bot]".
func (g *GitHub) BotLogin() string { return g.opts.AppSlug + "[bot]" }

func (g *GitHub) now() time.Time { return g.opts.Now().UTC().Truncate(time.Second) }

// newID hands out ids that are unique across the whole fake, so that a
// comment id alone names a comment. Callers hold g.mu.
func (g *GitHub) newID() int64 {
	g.nextID++
	return g.nextID
}

// user is a GitHub account: a person, an organization or an app's bot.
type user struct {
	login string
	id    int64
	kind  string // "User", "Organization" or "Bot"
}

// userLocked returns the account with login, creating it when it is new.
// Logins ending in "[bot]" are bots. Callers hold g.mu.
func (g *GitHub) userLocked(login string) *user {
	key := strings.ToLower(login)
	if u, ok := g.users[key]; ok {
		return u
	}
	u := &user{login: login, id: g.newID(), kind: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.kind = "Bot"
	}
	g.users[key] = u
	return u
}

// AddUser registers a GitHub account, so that the API knows it (a user that
// is not a collaborator still exists for the permission route). Users named
// anywhere else in this API (commits, comments, permissions) are registered
// on the fly.
func (g *GitHub) AddUser(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.userLocked(login)
}

// Installation is one installation of the app on an account.
type Installation struct {
	ID          int64
	Account     string // login of the account the app is installed on
	AccountType string // "Organization" or "User"
	accountID   int64
	createdAt   time.Time
}

// AddInstallation installs the app on the organization account. Repositories
// join it through RepoOptions.Installation.
func (g *GitHub) AddInstallation(id int64, account string) *Installation {
	return g.addInstallation(id, account, "Organization")
}

// AddUserInstallation installs the app on a personal account.
func (g *GitHub) AddUserInstallation(id int64, account string) *Installation {
	return g.addInstallation(id, account, "User")
}

func (g *GitHub) addInstallation(id int64, account, kind string) *Installation {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.userLocked(account)
	u.kind = kind
	inst := &Installation{ID: id, Account: account, AccountType: kind, accountID: u.id, createdAt: g.now()}
	g.installations[id] = inst
	return inst
}

// RepoOptions describes a repository to create.
type RepoOptions struct {
	DefaultBranch string // default "main"
	Private       bool
	// Installation is the id of the installation that can see the repo;
	// 0 means the app is not installed on it.
	Installation int64
}

// AddRepo creates an empty repository (no commits, no branches).
func (g *GitHub) AddRepo(owner, name string, opts RepoOptions) *Repo {
	g.mu.Lock()
	defer g.mu.Unlock()
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.Installation != 0 {
		if _, ok := g.installations[opts.Installation]; !ok {
			panic(fmt.Sprintf("fakegithub: AddRepo %s/%s: unknown installation %d", owner, name, opts.Installation))
		}
	}
	ownerUser := g.userLocked(owner)
	r := newRepo(g, g.newID(), ownerUser, name, opts)
	g.repos[strings.ToLower(owner+"/"+name)] = r
	return r
}

// Repo returns the repository owner/name, or nil.
func (g *GitHub) Repo(owner, name string) *Repo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.repos[strings.ToLower(owner+"/"+name)]
}

// installationReposLocked lists the repositories visible to an installation,
// by full name.
func (g *GitHub) installationReposLocked(id int64) []*Repo {
	var out []*Repo
	for _, r := range g.repos {
		if r.installationID == id {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fullName() < out[j].fullName() })
	return out
}
