package githubapi_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// The flag has the revert package's name, so that one command runs both
// property tests longer: go test ./revert/ ./githubapi/ -revert.cases=5000.
var (
	propertyCases = flag.Int("revert.cases", 600, "random (commit, head) pairs checked against git revert through the embedded GitHub")
	propertySeed  = flag.Int64("revert.seed", 0, "run only the history generated from this seed (0: the default seeds)")
)

// historyOptions shape the history of a seed: 80 commits, and in every
// third history files that become folders and back, which create-tree must
// handle by deleting one and adding the other.
func historyOptions(seed int64) gitoracle.Options {
	return gitoracle.Options{Seed: seed, Commits: 80, FileDirectory: seed%3 == 0}
}

// TestRevertThroughGitHubMatchesGit is the revert property test run the way
// production runs the engine: histories made by git are copied object by
// object into the embedded GitHub; for random commits C and later heads H,
// C is read through the commits API, the engine reads directories and blobs
// over HTTP and the tree is created with base_tree. The result must be
// git's tree whenever git reverts cleanly, a *revert.ConflictError whenever
// git conflicts, and revert.ErrNothingToRevert whenever git has nothing to
// commit. Run longer with -revert.cases=N; replay one history with
// -revert.seed=N.
func TestRevertThroughGitHubMatchesGit(t *testing.T) {
	t.Parallel()
	seeds := []int64{11, 12, 13}
	if *propertySeed != 0 {
		seeds = []int64{*propertySeed}
	}
	n := (*propertyCases + len(seeds) - 1) / len(seeds)
	var mu sync.Mutex
	total := map[gitoracle.Outcome]int{}
	merged, asked, requests, skipped := 0, 0, 0, 0
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
				t.Parallel()
				s := checkSeed(t, seed, n)
				mu.Lock()
				defer mu.Unlock()
				for o, k := range s.outcomes {
					total[o] += k
				}
				merged += s.merged
				asked += s.asked
				requests += s.requests
				skipped += s.skipped
			})
		}
	})
	if t.Failed() {
		return
	}
	cases := 0
	for _, k := range total {
		cases += k
	}
	if cases < *propertyCases {
		t.Errorf("checked %d cases, want at least %d", cases, *propertyCases)
	}
	// Every outcome, and clean reverts that merge lines, must be exercised
	// for the agreement to mean something.
	minimum := *propertyCases / 60
	for _, msg := range gitoracle.UnexercisedOutcomes(total, minimum) {
		t.Error(msg)
	}
	if merged < minimum {
		t.Errorf("only %d clean reverts read blobs to merge lines", merged)
	}
	if asked == 0 {
		t.Errorf("no case needed the branch's renames: the histories do not exercise the compare API")
	}
	if skipped*20 > cases {
		t.Errorf("%d cases left out because go-git and git disagree on renames, of %d: the generated renames are too close to the threshold", skipped, cases)
	}
	t.Logf("git's outcomes: %v; %d clean line merges; %d cases asked for the renames; %d left out (go-git and git disagree on renames); %.1f engine requests a case",
		total, merged, asked, skipped, float64(requests)/float64(max(cases, 1)))
}

// seedStats is what one history's cases exercised.
type seedStats struct {
	outcomes map[gitoracle.Outcome]int
	merged   int // clean reverts whose engine read blobs
	asked    int // cases that needed the branch's renames
	requests int // engine and create-tree requests
	skipped  int // cases left out: go-git and git disagree on the renames
}

// checkSeed generates one history, imports it into a fresh fake and checks
// n random (commit, head) pairs of it.
func checkSeed(t *testing.T, seed int64, n int) seedStats {
	t.Helper()
	h, err := gitoracle.Generate(filepath.Join(t.TempDir(), "repo"), historyOptions(seed))
	if err != nil {
		t.Fatalf("seed %d: generate history: %v", seed, err)
	}
	t.Cleanup(func() { h.Close() })
	env := newFakeEnv(t, nil)
	importHistory(t, h, env.repo)

	ctx := context.Background()
	commits := map[string]*rollback.Commit{} // read through the API once per commit
	stats := seedStats{outcomes: map[gitoracle.Outcome]int{}}
	rng := rand.New(rand.NewSource(seed))
	for checked := 0; checked < n; {
		i := 1 + rng.Intn(len(h.Commits)-1)
		j := i + rng.Intn(min(len(h.Commits)-i, 12))
		if rng.Intn(3) == 0 {
			j = i + rng.Intn(len(h.Commits)-i)
		}
		c := h.Commits[i]
		if len(c.Parents) != 1 {
			continue
		}
		commit, ok := commits[c.SHA]
		if !ok {
			if commit, err = env.api.Commit(ctx, c.SHA); err != nil {
				t.Fatalf("seed %d: read commit %d (%s) through the API: %v", seed, i, c.SHA, err)
			}
			commits[c.SHA] = commit
		}
		// Most cases ask git through merge-tree (the merge git revert
		// runs, without a work tree); every tenth runs git revert itself.
		git := h.MergeRevert
		if checked%10 == 0 {
			git = h.Revert
		}
		pc := propertyCase{h: h, env: env, seed: seed, i: i, j: j, commit: commit, git: git}
		before := len(env.gh.Requests())
		res := pc.check(t)
		// The fake's hourly request budget would stop long runs.
		env.gh.RestoreRateLimit()
		if res.detectorsDisagree {
			stats.skipped++
			continue
		}
		stats.requests += len(env.gh.Requests()) - before
		stats.outcomes[res.outcome]++
		if res.readBlobs && res.outcome == gitoracle.Clean {
			stats.merged++
		}
		if res.askedRenames {
			stats.asked++
		}
		checked++
	}
	t.Logf("seed %d: git %v; %d clean line merges; %d cases needed the branch's renames", seed, stats.outcomes, stats.merged, stats.asked)
	return stats
}

// importHistory copies every object reachable from main into the fake with
// `git rev-list --objects` and one `git cat-file --batch`, requires each to
// keep git's SHA, and points main at the history's tip.
func importHistory(t *testing.T, h *gitoracle.History, repo *fakegithub.Repo) {
	t.Helper()
	list, err := h.Git(nil, "rev-list", "--objects", "main")
	if err != nil {
		t.Fatalf("list objects: %v", err)
	}
	var names bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		sha, _, _ := strings.Cut(line, " ")
		names.WriteString(sha + "\n")
	}
	out, err := h.Git(names.Bytes(), "cat-file", "--batch")
	if err != nil {
		t.Fatalf("read objects: %v", err)
	}
	kinds := map[string]int{}
	for len(out) > 0 {
		header, rest, ok := bytes.Cut(out, []byte("\n"))
		f := strings.Fields(string(header))
		if !ok || len(f) != 3 {
			t.Fatalf("git cat-file --batch: unexpected header %q", header)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || len(rest) < size+1 {
			t.Fatalf("git cat-file --batch: unexpected header %q", header)
		}
		sha, kind, content := f[0], f[1], rest[:size]
		out = rest[size+1:] // the content's trailing newline
		got, err := repo.WriteObject(kind, content)
		if err != nil {
			t.Fatalf("import %s %s: %v", kind, sha, err)
		}
		if got != sha {
			t.Fatalf("imported %s %s has SHA %s in the fake", kind, sha, got)
		}
		kinds[kind]++
	}
	if kinds["commit"] != len(h.Commits) || kinds["tree"] == 0 || kinds["blob"] == 0 {
		t.Fatalf("imported %v, want %d commits and some trees and blobs", kinds, len(h.Commits))
	}
	if err := repo.SetRef("main", h.Commits[len(h.Commits)-1].SHA); err != nil {
		t.Fatal(err)
	}
}

// propertyCase is one revert of commit i on head j of a history.
type propertyCase struct {
	h      *gitoracle.History
	env    *fakeEnv
	seed   int64
	i, j   int
	commit *rollback.Commit // commit i, as the commits API reports it
	git    func(commit, head string) (gitoracle.RevertResult, error)
}

// caseResult is git's outcome of a case and what the engine did.
type caseResult struct {
	outcome      gitoracle.Outcome
	readBlobs    bool // the engine read blobs to merge lines
	askedRenames bool // the engine asked the compare API for the branch's renames
	// detectorsDisagree: the engine asked the compare API for renames on
	// which go-git's rename detection (the fake's) and git's disagree, as
	// they may near the 50% similarity threshold; the case is not checked.
	detectorsDisagree bool
}

// detectorsAgree reports whether, for every comparison among requests, the
// fake's renames are git's own (git diff -M).
func (pc propertyCase) detectorsAgree(t *testing.T, requests []fakegithub.Request) bool {
	t.Helper()
	for _, r := range requests {
		if !strings.HasSuffix(r.Route, "/compare/{basehead}") {
			continue
		}
		route, _, _ := strings.Cut(r.Path, "?")
		_, basehead, _ := strings.Cut(route, "/compare/")
		base, head, ok := strings.Cut(basehead, "...")
		if !ok {
			t.Fatalf("seed %d: comparison %s", pc.seed, r.Path)
		}
		fake, _, err := pc.env.api.RenamedSince(context.Background(), base, head)
		if err != nil {
			t.Fatalf("seed %d: %v", pc.seed, err)
		}
		git, err := pc.h.Renames(base, head)
		if err != nil {
			t.Fatalf("seed %d: git diff -M %s %s: %v", pc.seed, base, head, err)
		}
		if !maps.Equal(fake, git) {
			return false
		}
	}
	return true
}

// check runs the revert through the fake and through git, and fails the
// test when they disagree.
func (pc propertyCase) check(t *testing.T) caseResult {
	t.Helper()
	ctx := context.Background()
	c, head := pc.h.Commits[pc.i], pc.h.Commits[pc.j].SHA
	req := rollback.RevertRequest(pc.commit, head)
	if got, want := slices.Sorted(slices.Values(req.Paths)), slices.Sorted(slices.Values(c.Paths)); !slices.Equal(got, want) {
		t.Fatalf("seed %d: commit %d: the commits API lists paths %v, git log %v", pc.seed, pc.i, got, want)
	}
	before := len(pc.env.gh.Requests())
	got, err := revert.Revert(ctx, pc.env.api, req)
	readBlobs, askedRenames := false, false
	for _, r := range pc.env.gh.Requests()[before:] {
		readBlobs = readBlobs || strings.HasPrefix(r.Route, "GET /repos/{owner}/{repo}/git/blobs/")
		askedRenames = askedRenames || strings.HasSuffix(r.Route, "/compare/{basehead}")
		if strings.Contains(r.Path, "recursive") {
			t.Fatalf("seed %d: the engine listed a whole tree: %s %s", pc.seed, r.Method, r.Path)
		}
	}
	if askedRenames && !pc.detectorsAgree(t, pc.env.gh.Requests()[before:]) {
		return caseResult{detectorsDisagree: true}
	}
	want, gerr := pc.git(c.SHA, head)
	if gerr != nil {
		t.Fatalf("seed %d: git revert: %v", pc.seed, gerr)
	}

	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: revert of commit %d (%s) on commit %d (%s): %s\ngit said: %s\n%s",
			pc.seed, pc.i, c.SHA, pc.j, head, fmt.Sprintf(format, args...), strings.TrimSpace(want.Output), pc.reproduction(req))
	}
	var conflict *revert.ConflictError
	if errors.As(err, &conflict) && conflict.Conservative() {
		// The compare API gave the renames: the engine must not refuse
		// for want of them.
		fail("an uncertain refusal %v", err)
	}
	switch want.Outcome {
	case gitoracle.Clean:
		if err != nil {
			fail("git reverts cleanly to tree %s, engine: %v", want.Tree, err)
		}
		headTree, terr := pc.h.TreeOf(head)
		if terr != nil {
			t.Fatal(terr)
		}
		tree, cerr := pc.env.api.CreateTree(ctx, headTree, got.Changes)
		if cerr != nil {
			fail("create tree from the engine's changes %s: %v", describeChanges(got.Changes), cerr)
		}
		if tree != want.Tree {
			fail("GitHub's tree %s differs from git's %s; changes %s", tree, want.Tree, describeChanges(got.Changes))
		}
	case gitoracle.Conflict:
		if !errors.As(err, &conflict) {
			fail("git conflicts on %v, engine: changes %s, error %v", want.Unmerged, describeResult(got), err)
		}
	case gitoracle.NothingToCommit:
		if !errors.Is(err, revert.ErrNothingToRevert) {
			fail("git has nothing to commit, engine: changes %s, error %v", describeResult(got), err)
		}
	default:
		t.Fatalf("seed %d: git's outcome %v", pc.seed, want.Outcome)
	}
	return caseResult{outcome: want.Outcome, readBlobs: readBlobs, askedRenames: askedRenames}
}

func describeResult(r *revert.Result) string {
	if r == nil {
		return "none"
	}
	return describeChanges(r.Changes)
}

func describeChanges(changes []revert.Change) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		switch {
		case c.Delete:
			parts[i] = "delete " + c.Path
		case c.Content != nil:
			parts[i] = fmt.Sprintf("%s %s content %q", c.Mode, c.Path, c.Content)
		default:
			parts[i] = fmt.Sprintf("%s %s blob %s", c.Mode, c.Path, c.SHA)
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// reproduction prints how to replay the case and every version of the
// paths the commit changed, so that a failure can become a table case.
func (pc propertyCase) reproduction(req revert.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "replay: go test ./githubapi/ -run 'TestRevertThroughGitHubMatchesGit/seeds/%d$' -revert.seed=%d\n", pc.seed, pc.seed)
	fmt.Fprintf(&b, "history: gitoracle.Generate(dir, %#v); commit = Commits[%d], head = Commits[%d]\n",
		historyOptions(pc.seed), pc.i, pc.j)
	fmt.Fprintf(&b, "known blobs from the commits API: %v\n", req.Known)
	c := pc.h.Commits[pc.i]
	revs := []struct{ name, rev string }{{"parent", c.Parents[0]}, {"commit", c.SHA}, {"head", pc.h.Commits[pc.j].SHA}}
	for _, p := range c.Paths {
		fmt.Fprintf(&b, "path %s:\n", p)
		dir := path.Dir(p)
		if dir == "." {
			dir = ""
		}
		for _, r := range revs {
			entries, err := pc.h.ReadDir(r.rev, dir)
			if err != nil {
				fmt.Fprintf(&b, "  %s: %v\n", r.name, err)
				continue
			}
			e, ok := entries[path.Base(p)]
			if !ok {
				fmt.Fprintf(&b, "  %s: absent\n", r.name)
				continue
			}
			content := ""
			if e.Mode != "040000" && e.Mode != "160000" {
				data, _ := pc.h.ReadBlob(e.SHA)
				content = fmt.Sprintf("%q", data)
			}
			fmt.Fprintf(&b, "  %s: %s %s %s\n", r.name, e.Mode, e.SHA, content)
		}
	}
	return b.String()
}
