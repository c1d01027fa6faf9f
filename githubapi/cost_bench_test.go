package githubapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/handlers"
	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/report"
)

// The cost of one click on "Roll back": every GitHub request the check run
// handler makes, from the configuration to the outcome on the check run, to
// revert a Flux release and open its pull request, on repositories of 10
// and 100,000 files with histories of 10 and 10,000 commits.
// docs/performance.md explains the figures.

// costShape is the size of a benchmark repository.
type costShape struct {
	files, commits int
	// merge makes the branch change another line of the release file after
	// the release, so that the revert merges the file's lines.
	merge bool
	// tip makes the release the branch's last commit.
	tip bool
	// hold leaves holds on (the default), so that the pull request also
	// holds Flux's automation for the web image in a second commit.
	hold bool
}

func (s costShape) String() string {
	name := fmt.Sprintf("files=%d/commits=%d", s.files, s.commits)
	if s.merge {
		name += "/merge"
	}
	if s.tip {
		name += "/tip"
	}
	if s.hold {
		name += "/hold"
	}
	return name
}

var (
	costShapes  = []costShape{{files: 10, commits: 10}, {files: 10, commits: 10_000}, {files: 100_000, commits: 10}, {files: 100_000, commits: 10_000}}
	mergeShapes = []costShape{{files: 10, commits: 10, merge: true}, {files: 10, commits: 10_000, merge: true}, {files: 100_000, commits: 10_000, merge: true}}
	tipShapes   = []costShape{{files: 10, commits: 10, tip: true}, {files: 10, commits: 10_000, tip: true}, {files: 100_000, commits: 10_000, tip: true}}
	holdShapes  = []costShape{{files: 10, commits: 10, hold: true}, {files: 10, commits: 10_000, hold: true}, {files: 100_000, commits: 10_000, hold: true}}
)

const (
	releasePath = "app/bases/kustomization.yaml"
	requester   = "alice"
	// repoConfig is the repository's configuration file: the defaults, and
	// rollback pull requests without a hold commit.
	repoConfig = "version: 1\nhold: false\n"
	// holdConfig is the file of the hold shapes: the defaults, holds on.
	holdConfig = "version: 1\n"
)

// The release file; releases move newTag.
const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
images:
  - name: ghcr.io/acme/web
    newTag: %s # {"$imagepolicy": "flux-system:web:tag"}
  - name: ghcr.io/acme/api
    newTag: %s # {"$imagepolicy": "flux-system:api:tag"}
`

// appFiles are the files next to the release file, the same in every shape.
var appFiles = map[string]string{
	"deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	"service.yaml":    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n",
}

// servicePath lays the files other than app/bases out as a monorepo, ten
// entries a directory: file 31415 is services/team3/svc1/comp4/env1/file5.yaml.
// Every shape has the same depth, so only the repository's size differs.
func servicePath(i int) string {
	return fmt.Sprintf("services/team%d/svc%d/comp%d/env%d/file%d.yaml", i/10000%10, i/1000%10, i/100%10, i/10%10, i%10)
}

func serviceFile(i, version int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  version: \"%d\"\n", servicePath(i), version)
}

// costRepo is a benchmark repository built directly in the fake.
type costRepo struct {
	release string // the release commit to roll back
	tip     string // the release file on main
	want    string // the release file once the release is rolled back
}

// dirNode is a directory of a tree being built; sha is "" while it has
// changes not written yet.
type dirNode struct {
	parent *dirNode
	files  map[string]string // name -> blob
	dirs   map[string]*dirNode
	sha    string
}

// repoBuilder writes a tree and a linear history into the fake, rewriting
// for each commit only the directories along the paths it changed.
type repoBuilder struct {
	tb      testing.TB
	repo    *fakegithub.Repo
	root    *dirNode
	parent  string // the last commit
	when    time.Time
	commits int
}

// set points path at a new blob of content.
func (b *repoBuilder) set(p, content string) {
	blob, err := b.repo.WriteBlob([]byte(content))
	if err != nil {
		b.tb.Fatal(err)
	}
	d := b.root
	names := strings.Split(p, "/")
	for _, name := range names[:len(names)-1] {
		d.sha = ""
		child, ok := d.dirs[name]
		if !ok {
			child = &dirNode{parent: d, files: map[string]string{}, dirs: map[string]*dirNode{}}
			d.dirs[name] = child
		}
		d = child
	}
	d.sha = ""
	d.files[names[len(names)-1]] = blob
}

// write stores the directories changed since the last write.
func (b *repoBuilder) write(d *dirNode) string {
	if d.sha != "" {
		return d.sha
	}
	entries := make([]fakegithub.TreeEntry, 0, len(d.files)+len(d.dirs))
	for name, blob := range d.files {
		entries = append(entries, fakegithub.TreeEntry{Name: name, Mode: "100644", SHA: blob})
	}
	for name, child := range d.dirs {
		entries = append(entries, fakegithub.TreeEntry{Name: name, Mode: "040000", SHA: b.write(child)})
	}
	sha, err := b.repo.WriteTree(entries)
	if err != nil {
		b.tb.Fatal(err)
	}
	d.sha = sha
	return sha
}

// commit commits the tree on top of the previous commit, a minute later.
func (b *repoBuilder) commit(message, name, email string) {
	b.when = b.when.Add(time.Minute)
	sig := fakegithub.Signature{Name: name, Email: email, When: b.when}
	c := fakegithub.CommitObject{Tree: b.write(b.root), Author: sig, Committer: sig, Message: message}
	if b.parent != "" {
		c.Parents = []string{b.parent}
	}
	sha, err := b.repo.WriteCommit(c)
	if err != nil {
		b.tb.Fatal(err)
	}
	b.parent = sha
	b.commits++
}

// buildCostRepo makes a repository of shape.files files whose history has
// shape.commits commits: the first adds every file and the configuration
// file, the release of the web image is third from the tip (the tip itself
// with shape.tip), and every other commit changes one service file (every
// 50th is an earlier release of the web image; with shape.merge, the one
// after the release is a release of the api image, two lines below).
func buildCostRepo(tb testing.TB, repo *fakegithub.Repo, shape costShape) costRepo {
	tb.Helper()
	b := &repoBuilder{tb: tb, repo: repo, when: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		root: &dirNode{files: map[string]string{}, dirs: map[string]*dirNode{}}}
	tag := func(n int) string { return fmt.Sprintf("1.4.%d", n) }
	const api, laterAPI = "2.7.1", "2.7.2"
	others := shape.files - 1 - len(appFiles)
	for i := range others {
		b.set(servicePath(i), serviceFile(i, 0))
	}
	for name, content := range appFiles {
		b.set("app/bases/"+name, content)
	}
	releases := 0
	b.set(releasePath, fmt.Sprintf(kustomization, tag(releases), api))
	if shape.hold {
		b.set(".github/flux-rollback.yml", holdConfig)
	} else {
		b.set(".github/flux-rollback.yml", repoConfig)
	}
	b.commit("Add the monorepo\n", "Jane", "jane@example.com")

	releaseAt := shape.commits - 3
	if shape.tip {
		releaseAt = shape.commits - 1
	}
	var out costRepo
	for n := 1; n < shape.commits; n++ {
		switch {
		case n == releaseAt || n%50 == 0 && n < releaseAt:
			out.want = fmt.Sprintf(kustomization, tag(releases), api)
			releases++
			out.tip = fmt.Sprintf(kustomization, tag(releases), api)
			b.set(releasePath, out.tip)
			b.commit(fmt.Sprintf("Update ghcr.io/acme/web to %s\n", tag(releases)), "fluxcdbot", "fluxcdbot@users.noreply.github.com")
			out.release = b.parent
			continue
		case n == shape.commits-2 && shape.merge:
			out.want = fmt.Sprintf(kustomization, tag(releases-1), laterAPI)
			out.tip = fmt.Sprintf(kustomization, tag(releases), laterAPI)
			b.set(releasePath, out.tip)
			b.commit("Update ghcr.io/acme/api to "+laterAPI+"\n", "fluxcdbot", "fluxcdbot@users.noreply.github.com")
			continue
		}
		i := (n * 7919) % others // spread the edits over the repository
		b.set(servicePath(i), serviceFile(i, n))
		b.commit(fmt.Sprintf("Tune %s\n", servicePath(i)), "Jane", "jane@example.com")
	}
	if b.commits != shape.commits {
		tb.Fatalf("built %d commits, want %d", b.commits, shape.commits)
	}
	if err := repo.SetRef("main", b.parent); err != nil {
		tb.Fatal(err)
	}
	return out
}

// span is one request as the client saw it: from the call to RoundTrip to
// the close of the response body.
type span struct{ start, end time.Time }

// roundTripRecorder records the spans of the requests passing through it.
type roundTripRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	spans []span
}

func (r *roundTripRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/access_tokens") {
		return r.next.RoundTrip(req) // the installation token, not the click's
	}
	start := time.Now()
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		r.record(start)
		return nil, err
	}
	resp.Body = &closeHook{ReadCloser: resp.Body, done: func() { r.record(start) }}
	return resp, nil
}

func (r *roundTripRecorder) record(start time.Time) {
	end := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, span{start, end})
}

// take returns the spans recorded so far and forgets them.
func (r *roundTripRecorder) take() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.spans
	r.spans = nil
	return out
}

type closeHook struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.done)
	return err
}

// sequentialRoundTrips is the length of the longest chain of requests in
// which each starts after the previous one ended: the round trips a user
// waits for, however many requests run alongside.
func sequentialRoundTrips(spans []span) int {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	chain := make([]int, len(spans))
	longest := 0
	for i, s := range spans {
		chain[i] = 1
		for j := range i {
			if !spans[j].end.After(s.start) {
				chain[i] = max(chain[i], chain[j]+1)
			}
		}
		longest = max(longest, chain[i])
	}
	return longest
}

// clickCost is what one rollback sent to and received from GitHub.
type clickCost struct {
	routes     []string // "GET /repos/{owner}/{repo}/...", in the order GitHub answered them
	bytes      int      // request and response bodies
	roundTrips int
}

// costEnv is a benchmark repository in a fake with the release's check
// run, and the check run handler wired as the server wires it: a caching
// client creator whose installation clients reach the fake through the
// round-trip recorder, and the configuration loader.
type costEnv struct {
	*fakeEnv
	rec     *roundTripRecorder
	built   costRepo
	clients githubapp.ClientCreator
	runID   int64
	clicks  int
}

// costAppKey is the App's key, made once for every benchmark repository.
var costAppKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
})

const costAppID = 42

func newCostEnv(tb testing.TB, shape costShape) *costEnv {
	tb.Helper()
	rec := &roundTripRecorder{}
	env := newFakeEnvWithKey(tb, &costAppKey().PublicKey)
	env.repo.SetPermission(requester, "maintain")
	built := buildCostRepo(tb, env.repo, shape)
	rec.next = env.srv.Client().Transport
	var cfg githubapp.Config
	cfg.V3APIURL, cfg.V4APIURL = env.srv.URL+"/", env.srv.URL+"/graphql"
	cfg.App.IntegrationID = costAppID
	cfg.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(costAppKey())}))
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg, githubapp.WithTransport(rec))
	if err != nil {
		tb.Fatal(err)
	}
	runID, err := env.api.CreateCheckRun(context.Background(), built.release, report.CheckRun{
		Status: "completed", Conclusion: "neutral", Title: "web 1.4.x", Summary: "Flux released this commit.",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &costEnv{fakeEnv: env, rec: rec, built: built, clients: clients, runID: runID}
}

// clickPayload is the check_run event of a click on Roll back.
func (e *costEnv) clickPayload(tb testing.TB) []byte {
	tb.Helper()
	event := github.CheckRunEvent{
		Action: github.String("requested_action"),
		CheckRun: &github.CheckRun{
			ID: github.Int64(e.runID), HeadSHA: github.String(e.built.release), Name: github.String(report.CheckRunName),
			App:        &github.App{ID: github.Int64(costAppID)},
			CheckSuite: &github.CheckSuite{HeadBranch: github.String("main")},
		},
		RequestedAction: &github.RequestedAction{Identifier: report.ActionRollback},
		Repo: &github.Repository{Name: github.String(repoName), DefaultBranch: github.String("main"),
			Owner: &github.User{Login: github.String(owner)}},
		Installation: &github.Installation{ID: github.Int64(installationID)},
		Sender:       &github.User{Login: github.String(requester)},
	}
	payload, err := json.Marshal(event)
	if err != nil {
		tb.Fatal(err)
	}
	return payload
}

// click delivers one click to the check run handler and returns what it
// cost and the rollback branch. Every click opens a new pull request: the
// server's default branch prefix (which the repository's file does not
// set) is unique per click, since the same branch name would take the path
// that finds the pull request an earlier click opened. The handler shows
// progress only after an hour, so a click reports its outcome alone.
func (e *costEnv) click(tb testing.TB) (string, clickCost) {
	tb.Helper()
	defaults := repoconfig.DefaultConfig()
	defaults.BranchPrefix = fmt.Sprintf("rollback-%06d-", e.clicks)
	e.clicks++
	handler := &handlers.CheckRun{Base: &handlers.Base{
		ClientCreator: e.clients, AppID: costAppID,
		Configs:       githubapi.NewConfigLoader(repoconfig.DefaultPath, defaults),
		ProgressDelay: time.Hour,
	}}
	payload := e.clickPayload(tb)
	e.gh.ResetRequests()
	e.gh.RestoreRateLimit() // a benchmark clicks more often than GitHub's hourly budget allows
	e.rec.take()
	if err := handler.Handle(context.Background(), "check_run", fmt.Sprintf("click-%d", e.clicks), payload); err != nil {
		tb.Fatalf("click on %s: %v", e.built.release, err)
	}
	var cost clickCost
	for _, r := range e.gh.Requests() {
		if strings.HasSuffix(r.Route, "/access_tokens") {
			continue // the installation token, made once per hour
		}
		route := r.Route
		if route == "" {
			route = r.Method + " " + r.Path
		}
		cost.routes = append(cost.routes, route)
		cost.bytes += len(r.RequestBody) + len(r.ResponseBody)
	}
	cost.roundTrips = sequentialRoundTrips(e.rec.take())
	return defaults.BranchPrefix + e.built.release[:7], cost
}

// clickLatency delays every answer of the embedded GitHub during a measured
// click, as the internet between the App and GitHub does (50-150ms there):
// requests that run alongside each other then overlap even when the
// machine is too busy to start them at the same instant, so that the round
// trips counted are the click's, not the scheduler's.
const clickLatency = 20 * time.Millisecond

// BenchmarkClickCost measures one click on Roll back, from the check_run
// event to the outcome on the check run: the configuration, the role,
// commit and head reads, the revert engine's reads, tree, commit, branch,
// pull request and the check run's update, against the embedded GitHub
// over HTTP. Run: go test -run '^$' -bench . ./githubapi/
func BenchmarkClickCost(b *testing.B) {
	shapes := slices.Concat(costShapes, mergeShapes, tipShapes, holdShapes)
	for _, shape := range shapes {
		b.Run(shape.String(), func(b *testing.B) {
			env := newCostEnv(b, shape)
			env.click(b) // the installation token, made once per hour, is not a click's
			env.gh.SetLatency(clickLatency)
			calls, bytes, roundTrips := 0, 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, cost := env.click(b)
				calls += len(cost.routes)
				bytes += cost.bytes
				roundTrips += cost.roundTrips
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
			b.ReportMetric(float64(roundTrips)/float64(b.N), "roundtrips/op")
		})
	}
}

// clickRoutes are the requests a click on a release makes when the head has
// not touched the release file since, as docs/performance.md lists them:
// eleven, in seven round trips.
var clickRoutes = []string{
	"GET /repos/{owner}/{repo}/contents/{path}", // the configuration
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission",
	"GET /repos/{owner}/{repo}/commits/{ref}",
	"GET /repos/{owner}/{repo}/compare/{basehead}",
	"GET /repos/{owner}/{repo}/git/trees/{tree_sha}", // app/bases on the head
	"GET /repos/{owner}/{repo}/git/trees/{tree_sha}", // app/bases in the release's parent
	"POST /repos/{owner}/{repo}/git/trees",
	"POST /repos/{owner}/{repo}/git/commits",
	"POST /repos/{owner}/{repo}/git/refs",
	"POST /repos/{owner}/{repo}/pulls",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
}

// mergeRoutes are the requests of a click when the branch changed the
// release file since: the release's directory and the file's three versions
// are read as well.
var mergeRoutes = append(slices.Clone(clickRoutes),
	"GET /repos/{owner}/{repo}/git/trees/{tree_sha}", // app/bases in the release
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
)

// tipRoutes are the requests of a click on the release at the branch's
// tip: its parent's tree is the revert, read in place of the directories
// and the tree write.
var tipRoutes = []string{
	"GET /repos/{owner}/{repo}/contents/{path}",
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission",
	"GET /repos/{owner}/{repo}/commits/{ref}",
	"GET /repos/{owner}/{repo}/compare/{basehead}",
	"GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
	"POST /repos/{owner}/{repo}/git/commits",
	"POST /repos/{owner}/{repo}/git/refs",
	"POST /repos/{owner}/{repo}/pulls",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
}

// holdRoutes are the requests of a click that also holds Flux's automation
// for the web image: the release file is read on the head and after the
// revert to hold its marker, the hold's tree (written alongside the
// revert's) and commit (on the revert) are made, and the pull request gets
// the hold's label: sixteen requests in ten round trips.
var holdRoutes = append(slices.Clone(clickRoutes),
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}", // the release file on the head, for the hold
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}", // the release file after the revert, for the hold
	"POST /repos/{owner}/{repo}/git/trees",           // the hold's tree, at the same time as the revert's
	"POST /repos/{owner}/{repo}/git/commits",         // the hold, on the revert
	"POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
)

// TestClickCostIsFlat shows that a click makes the same requests in at
// most seven round trips whatever the size of the repository and the
// length of its history, and moves about as many bytes, and that each
// click rolls the release back.
func TestClickCostIsFlat(t *testing.T) {
	t.Parallel()
	checkFlat(t, costShapes, clickRoutes, 7)
}

// TestMergeClickCostIsFlat does the same where the revert merges lines, on
// the small repository with both histories; the benchmark adds the largest
// repository, which TestClickCostIsFlat already builds once.
func TestMergeClickCostIsFlat(t *testing.T) {
	t.Parallel()
	checkFlat(t, mergeShapes[:2], mergeRoutes, 9)
}

// TestHoldClickCostIsFlat does the same for a click that holds the web
// image, on the small repository with both histories.
func TestHoldClickCostIsFlat(t *testing.T) {
	t.Parallel()
	checkFlat(t, holdShapes[:2], holdRoutes, 10)
}

// TestTipClickCostIsFlat does the same for the release at the tip.
func TestTipClickCostIsFlat(t *testing.T) {
	t.Parallel()
	checkFlat(t, tipShapes[:2], tipRoutes, 6)
}

// checkFlat clicks once on each shape, and requires the pull request to
// hold the rolled-back file, the requests to be routes in at most
// roundTrips sequential round trips, and the bytes of the shapes to be
// within a quarter of each other.
func checkFlat(t *testing.T, shapes []costShape, routes []string, roundTrips int) {
	costs := make([]clickCost, len(shapes))
	for i, shape := range shapes {
		// A subtest per shape, so that each fake is freed before the next.
		t.Run(shape.String(), func(t *testing.T) {
			env := newCostEnv(t, shape)
			env.click(t) // the installation token, made once per hour, is not a click's
			env.gh.SetLatency(clickLatency)
			branch, cost := env.click(t)
			if prs := env.repo.PullRequests(); len(prs) != 2 || prs[1].Head != branch {
				t.Errorf("pull requests %+v, want the second from %s", prs, branch)
			}
			reverted := branch
			if shape.hold {
				// The branch holds the revert, then the hold of the web image.
				tip, err := env.repo.CommitInfo(branch)
				if err != nil || len(tip.Parents) != 1 {
					t.Fatalf("tip of %s: %+v (%v)", branch, tip, err)
				}
				reverted = tip.Parents[0]
				held, err := env.repo.ReadFile(branch, releasePath)
				if h := hold.FindHeld([]byte(held)); err != nil || len(h) != 1 || h[0].Policy != "flux-system:web" || h[0].Field != "tag" {
					t.Errorf("%s held on %s: %+v (%v)", releasePath, branch, h, err)
				}
			}
			if got, err := env.repo.ReadFile(reverted, releasePath); err != nil || got != env.built.want {
				t.Errorf("%s reverted on %s is %q (%v), want %q", releasePath, branch, got, err, env.built.want)
			}
			if tip, err := env.repo.ReadFile("main", releasePath); err != nil || tip != env.built.tip {
				t.Errorf("%s on main is %q (%v), want %q", releasePath, tip, err, env.built.tip)
			}
			if run, ok := env.repo.CheckRun(env.runID); !ok || run.Status != "completed" || !strings.Contains(run.Output.Title, "opened") {
				t.Errorf("check run after the click: %+v", run.Output)
			}
			costs[i] = cost
			t.Logf("%d calls, %d bytes, %d sequential round trips", len(cost.routes), cost.bytes, cost.roundTrips)
		})
	}
	if t.Failed() {
		return
	}
	// Concurrent requests reach the fake in either order.
	sorted := func(routes []string) []string { return slices.Sorted(slices.Values(routes)) }
	want := sorted(routes)
	least, most := costs[0].bytes, costs[0].bytes
	for i, c := range costs {
		if got := sorted(c.routes); !slices.Equal(got, want) {
			t.Errorf("%v makes the requests\n%s\nwant\n%s", shapes[i], strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if c.roundTrips > roundTrips {
			t.Errorf("%v takes %d sequential round trips, want at most %d", shapes[i], c.roundTrips, roundTrips)
		}
		least, most = min(least, c.bytes), max(most, c.bytes)
	}
	if most*4 > least*5 {
		t.Errorf("bytes per click range from %d to %d: more than a quarter apart", least, most)
	}
}
