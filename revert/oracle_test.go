package revert

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
)

var (
	propertyCases = flag.Int("revert.cases", 600, "random (commit, head) pairs checked against git revert by TestRevertMatchesGit")
	propertySeed  = flag.Int64("revert.seed", 0, "run TestRevertMatchesGit on this history only; its cases are numbered as in the full run")
)

// repoReader reads a repository on disk through git.
type repoReader struct{ repo *gitoracle.Repo }

func (r repoReader) Dir(_ context.Context, commit, dir string) (map[string]Entry, error) {
	entries, err := r.repo.ReadDir(commit, dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Entry, len(entries))
	for name, e := range entries {
		out[name] = Entry{Mode: e.Mode, SHA: e.SHA}
	}
	return out, nil
}

func (r repoReader) Blob(_ context.Context, sha string) ([]byte, error) {
	return r.repo.ReadBlob(sha)
}

// RenamedSince asks git itself (git diff -M), so the answer is exact.
func (r repoReader) RenamedSince(_ context.Context, base, head string) (map[string]string, bool, error) {
	renames, err := r.repo.Renames(base, head)
	return renames, err == nil, err
}

// withoutRenames hides a Reader's Renames, as a Reader that cannot tell.
type withoutRenames struct{ r Reader }

func (w withoutRenames) Dir(ctx context.Context, commit, dir string) (map[string]Entry, error) {
	return w.r.Dir(ctx, commit, dir)
}

func (w withoutRenames) Blob(ctx context.Context, sha string) ([]byte, error) {
	return w.r.Blob(ctx, sha)
}

// countingReader counts and records the reads it passes on.
type countingReader struct {
	Reader
	mu      sync.Mutex
	dirs    []string // "commit:dir"
	blobs   []string
	renames int      // RenamedSince calls
	pairs   []string // "base..head" of each RenamedSince call
}

// repeatedRenames reports whether RenamedSince was asked twice about the
// same two commits.
func (c *countingReader) repeatedRenames() bool {
	seen := make(map[string]bool)
	for _, p := range c.pairs {
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	return false
}

// RenamedSince passes the call on to a Reader that implements Renames and
// answers "cannot tell" for one that does not.
func (c *countingReader) RenamedSince(ctx context.Context, base, head string) (map[string]string, bool, error) {
	c.mu.Lock()
	c.renames++
	c.pairs = append(c.pairs, base+".."+head)
	c.mu.Unlock()
	r, ok := c.Reader.(Renames)
	if !ok {
		return nil, false, nil
	}
	return r.RenamedSince(ctx, base, head)
}

func (c *countingReader) Dir(ctx context.Context, commit, dir string) (map[string]Entry, error) {
	c.mu.Lock()
	c.dirs = append(c.dirs, commit+":"+dir)
	c.mu.Unlock()
	return c.Reader.Dir(ctx, commit, dir)
}

func (c *countingReader) Blob(ctx context.Context, sha string) ([]byte, error) {
	c.mu.Lock()
	c.blobs = append(c.blobs, sha)
	c.mu.Unlock()
	return c.Reader.Blob(ctx, sha)
}

// checkAgainstGit reverts commit on head with the engine and with git and
// fails the test, with a reproduction, when they disagree. It returns git's
// outcome and the engine's answer.
func checkAgainstGit(t *testing.T, repo *gitoracle.Repo, commit gitoracle.Commit, head string) (gitoracle.Outcome, *Result, error) {
	t.Helper()
	return checkAgainstGitWith(t, repo, repoReader{repo}, commit, head, caseInfo{}, repo.Revert)
}

// gitRevert is how the test asks git: Repo.Revert runs git revert itself,
// Repo.MergeRevert the same merge faster.
type gitRevert func(commit, head string) (gitoracle.RevertResult, error)

// caseInfo says how to replay a property case; zero for table cases.
type caseInfo struct {
	seed       int64 // the history's seed
	index      int   // the case's number in the history
	known      bool  // the request gives Request.Known
	commit, to int   // indexes of C and H in the history
}

func (c caseInfo) String() string {
	if c.seed == 0 {
		return "table case"
	}
	return fmt.Sprintf("history seed %d, case %d (commit %d, head %d; replay: go test ./revert/ -run TestRevertMatchesGit -revert.seed=%d)",
		c.seed, c.index, c.commit, c.to, c.seed)
}

func checkAgainstGitWith(t *testing.T, repo *gitoracle.Repo, reader Reader, commit gitoracle.Commit, head string, info caseInfo, git gitRevert) (gitoracle.Outcome, *Result, error) {
	t.Helper()
	want, err := git(commit.SHA, head)
	if err != nil {
		t.Fatalf("%v: git: %v", info, err)
	}
	headTree, err := repo.TreeOf(head)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Commit: commit.SHA, Parents: commit.Parents, Head: head, Paths: commit.Paths}
	if info.known {
		// The commit's blobs, as callers that have GitHub's list of the
		// commit's files give them.
		req.Known = knownBlobs(t, repo, commit)
	}
	got, gotErr := Revert(context.Background(), reader, req)
	err = gotErr

	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%v: revert %s on %s (Request.Known given: %v): %s\ngit said: %s\n%s", info, commit.SHA, head, info.known,
			fmt.Sprintf(format, args...), strings.TrimSpace(want.Output), reproduction(repo, commit, head))
	}
	var conflict *ConflictError
	switch want.Outcome {
	case gitoracle.Clean:
		if err != nil {
			fail("git reverts cleanly to tree %s, engine: %v", want.Tree, err)
		}
		tree, err := repo.ApplyTree(headTree, treeEdits(got.Changes))
		if err != nil {
			fail("applying the engine's changes %+v: %v", got.Changes, err)
		}
		if tree != want.Tree {
			fail("engine's tree %s differs from git's %s; changes %+v", tree, want.Tree, got.Changes)
		}
	case gitoracle.Conflict:
		if !errors.As(err, &conflict) {
			fail("git conflicts on %v, engine: result %+v, error %v", want.Unmerged, got, err)
		}
	case gitoracle.NothingToCommit:
		if !errors.Is(err, ErrNothingToRevert) {
			fail("git has nothing to commit, engine: result %+v, error %v", got, err)
		}
	}
	return want.Outcome, got, gotErr
}

// hasUncertain reports whether a conflict includes a conservative refusal.
func hasUncertain(ce *ConflictError) bool {
	for _, f := range ce.Files {
		if f.Uncertain {
			return true
		}
	}
	return false
}

// knownBlobs lists the blob each changed path has in the commit ("" where
// the commit removed it), as Request.Known.
func knownBlobs(t *testing.T, repo *gitoracle.Repo, commit gitoracle.Commit) map[string]string {
	t.Helper()
	known := make(map[string]string, len(commit.Paths))
	for _, p := range commit.Paths {
		entries, err := repo.ReadDir(commit.SHA, parentDir(p))
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := entries[filepath.Base(p)]; ok && e.Mode != modeTree {
			known[p] = e.SHA
		} else {
			known[p] = ""
		}
	}
	return known
}

func treeEdits(changes []Change) []gitoracle.TreeEdit {
	edits := make([]gitoracle.TreeEdit, len(changes))
	for i, c := range changes {
		edits[i] = gitoracle.TreeEdit{Path: c.Path, Delete: c.Delete, Mode: c.Mode, SHA: c.SHA, Content: c.Content}
	}
	return edits
}

// reproduction prints every version of the paths the commit changed, so
// that a failing case can be turned into a table case.
func reproduction(repo *gitoracle.Repo, commit gitoracle.Commit, head string) string {
	var b strings.Builder
	revs := []struct{ name, rev string }{{"parent", commit.Parents[0]}, {"commit", commit.SHA}, {"head", head}}
	for _, p := range commit.Paths {
		fmt.Fprintf(&b, "path %s:\n", p)
		for _, r := range revs {
			entries, err := repo.ReadDir(r.rev, parentDir(p))
			if err != nil {
				fmt.Fprintf(&b, "  %s: %v\n", r.name, err)
				continue
			}
			e, ok := entries[filepath.Base(p)]
			if !ok {
				fmt.Fprintf(&b, "  %s: absent\n", r.name)
				continue
			}
			content := ""
			if e.Mode != modeTree && e.Mode != modeGitlink {
				data, _ := repo.ReadBlob(e.SHA)
				content = fmt.Sprintf("%q", data)
			}
			fmt.Fprintf(&b, "  %s: %s %s %s\n", r.name, e.Mode, e.SHA, content)
		}
	}
	return b.String()
}

// TestRevertMatchesGit is the property test: on generated histories, for
// random commits C and later heads H, the engine must produce git's tree
// whenever git reverts cleanly, a conflict whenever git conflicts, and
// ErrNothingToRevert whenever git has nothing to commit.
// Run longer with -revert.cases=N.
func TestRevertMatchesGit(t *testing.T) {
	// About 200 pairs per history; longer runs use more histories.
	var seeds []int64
	for s := int64(1); s <= int64(max(3, (*propertyCases+199)/200)); s++ {
		seeds = append(seeds, s)
	}
	if *propertySeed != 0 {
		seeds = []int64{*propertySeed}
	}
	var mu sync.Mutex
	total := map[gitoracle.Outcome]int{}
	totalMerged, totalAsked, totalCleanAsked, totalFollowed := 0, 0, 0, 0
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				// Every third history also turns files into folders and
				// back.
				opts := gitoracle.Options{Seed: seed, Commits: 80, FileDirectory: seed%3 == 0}
				h, err := gitoracle.Generate(filepath.Join(t.TempDir(), "repo"), opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { h.Close() })
				rng := rand.New(rand.NewSource(seed))
				n := (*propertyCases + len(seeds) - 1) / len(seeds)
				outcomes := map[gitoracle.Outcome]int{}
				mergedClean := 0 // clean reverts that needed a line merge
				asked := 0       // cases where the outcome depended on the branch's renames
				cleanAsked := 0  // clean reverts among them
				followed := 0    // clean reverts that wrote a file at the branch's new name
				for k := 0; k < n; k++ {
					i := 1 + rng.Intn(len(h.Commits)-1)
					j := i + rng.Intn(min(len(h.Commits)-i, 12))
					if rng.Intn(3) == 0 {
						j = i + rng.Intn(len(h.Commits)-i)
					}
					c := h.Commits[i]
					if len(c.Parents) != 1 {
						continue
					}
					reader := &countingReader{Reader: repoReader{h.Repo}}
					// Most cases ask git through merge-tree; every tenth
					// through git revert itself, and the two must agree.
					git := h.MergeRevert
					if k%10 == 0 {
						git = func(commit, head string) (gitoracle.RevertResult, error) {
							slow, err := h.Revert(commit, head)
							if err != nil {
								return slow, err
							}
							fast, err := h.MergeRevert(commit, head)
							if err != nil {
								return slow, err
							}
							if slow.Outcome != fast.Outcome || slow.Tree != fast.Tree {
								t.Fatalf("revert %s on %s: git revert %+v, merge-tree %+v", commit, head, slow, fast)
							}
							return slow, nil
						}
					}
					info := caseInfo{seed: seed, index: k, known: k%2 == 1, commit: i, to: j}
					outcome, res, err := checkAgainstGitWith(t, h.Repo, reader, c, h.Commits[j].SHA, info, git)
					if outcome == gitoracle.Clean && reader.renames > 0 {
						cleanAsked++
						for _, ch := range res.Changes {
							if !slices.Contains(c.Paths, ch.Path) {
								// Written at the branch's new name.
								followed++
								break
							}
						}
					}
					outcomes[outcome]++
					var ce *ConflictError
					if errors.As(err, &ce) && hasUncertain(ce) {
						t.Fatalf("%v: an uncertain conflict %v though git told the renames", info, ce)
					}
					if reader.repeatedRenames() {
						t.Fatalf("%v: the engine asked for the same renames twice: %v", info, reader.pairs)
					}
					if reader.renames > 0 {
						// Only where a Reader without renames gets a
						// conservative refusal.
						asked++
						req := Request{Commit: c.SHA, Parents: c.Parents, Head: h.Commits[j].SHA, Paths: c.Paths}
						_, err := Revert(context.Background(), withoutRenames{repoReader{h.Repo}}, req)
						if !errors.As(err, &ce) || !hasUncertain(ce) {
							t.Fatalf("%v: the engine asked for the renames, but without them it answers %v", info, err)
						}
					}
					if len(reader.blobs) > 0 && outcome == gitoracle.Clean {
						mergedClean++
					}
				}
				t.Logf("seed %d: git %v; %d clean line merges; %d cases needed the renames, %d of them clean, %d written at the branch's new name",
					seed, outcomes, mergedClean, asked, cleanAsked, followed)
				mu.Lock()
				for o, n := range outcomes {
					total[o] += n
				}
				totalMerged += mergedClean
				totalAsked += asked
				totalCleanAsked += cleanAsked
				totalFollowed += followed
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	// The histories must exercise every outcome, and clean reverts that
	// merge lines, for the agreement above to mean something.
	minimum := *propertyCases / 60
	for _, msg := range gitoracle.UnexercisedOutcomes(total, minimum) {
		t.Error(msg)
	}
	if totalMerged < minimum {
		t.Errorf("only %d clean reverts needed a line merge", totalMerged)
	}
	if totalAsked == 0 {
		t.Errorf("no case needed the branch's renames: the histories do not exercise them")
	}
	if totalCleanAsked == 0 || totalFollowed == 0 {
		t.Errorf("%d clean reverts needed the renames, %d followed the branch's: the histories do not exercise rename following", totalCleanAsked, totalFollowed)
	}
	t.Logf("outcomes: %v; %d cases needed the renames, %d of them clean, %d written at the branch's new name", total, totalAsked, totalCleanAsked, totalFollowed)
}
