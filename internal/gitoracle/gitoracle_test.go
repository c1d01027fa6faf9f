package gitoracle

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestGenerateIsDeterministic(t *testing.T) {
	gen := func(seed int64) *History {
		h, err := Generate(filepath.Join(t.TempDir(), "repo"), Options{Seed: seed, Commits: 25})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	a, b, c := gen(7), gen(7), gen(8)
	if len(a.Commits) != 26 {
		t.Fatalf("%d commits, want 26", len(a.Commits))
	}
	if !reflect.DeepEqual(a.Commits, b.Commits) {
		t.Fatal("the same seed produced different histories")
	}
	if reflect.DeepEqual(a.Commits, c.Commits) {
		t.Fatal("different seeds produced the same history")
	}
	for i, commit := range a.Commits {
		if i > 0 && (len(commit.Parents) != 1 || commit.Parents[0] != a.Commits[i-1].SHA) {
			t.Fatalf("commit %d is not linear: parents %v", i, commit.Parents)
		}
	}
	if len(a.Commits[0].Parents) != 0 || len(a.Commits[0].Paths) == 0 {
		t.Fatalf("root commit: parents %v, paths %v", a.Commits[0].Parents, a.Commits[0].Paths)
	}
}

func TestRevertOutcomes(t *testing.T) {
	repo, err := Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	commit := func(files map[string]*File) string {
		t.Helper()
		sha, err := repo.CommitFiles("c", files)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	p := commit(map[string]*File{"a.yaml": {Content: "1\n2\n3\n"}, "b.yaml": {Content: "x\n"}})
	c := commit(map[string]*File{"a.yaml": {Content: "1\nTWO\n3\n"}})
	conflicting := commit(map[string]*File{"a.yaml": {Content: "1\nzwei\n3\n"}})
	reverted := commit(map[string]*File{"a.yaml": {Content: "1\n2\n3\n"}})
	unrelated := commit(map[string]*File{"b.yaml": {Content: "y\n"}})

	pTree, err := repo.TreeOf(p)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		head     string
		want     Outcome
		tree     string
		unmerged []string
	}{
		"on the commit itself":  {head: c, want: Clean, tree: pTree},
		"on a conflicting head": {head: conflicting, want: Conflict, unmerged: []string{"a.yaml"}},
		"on a reverted head":    {head: reverted, want: NothingToCommit},
		"after a conflict":      {head: c, want: Clean, tree: pTree},
	}
	// Run in a fixed order: the last case checks that a conflicted revert
	// leaves nothing behind for the next one.
	for _, name := range []string{"on the commit itself", "on a conflicting head", "after a conflict", "on a reverted head"} {
		tc := cases[name]
		got, err := repo.Revert(c, tc.head)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Outcome != tc.want || (tc.tree != "" && got.Tree != tc.tree) || !reflect.DeepEqual(got.Unmerged, tc.unmerged) {
			t.Fatalf("%s: got %+v, want %v tree %q unmerged %v", name, got, tc.want, tc.tree, tc.unmerged)
		}
	}
	// Reverting the revert on a later head brings the change back.
	got, err := repo.Revert(reverted, unrelated)
	if err != nil || got.Outcome != Clean {
		t.Fatalf("revert of the revert: %+v, %v", got, err)
	}
	if _, err := repo.Revert("0000000000000000000000000000000000000000", c); err == nil {
		t.Fatal("reverting a missing commit succeeded")
	}
}

func TestApplyTree(t *testing.T) {
	repo, err := Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	base, err := repo.CommitFiles("base", map[string]*File{
		"a/b.yaml": {Content: "b\n"},
		"a/c.yaml": {Content: "c\n"},
		"d.yaml":   {Content: "d\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	baseTree, err := repo.TreeOf(base)
	if err != nil {
		t.Fatal(err)
	}
	dBlob, err := repo.WriteBlob([]byte("d\n"))
	if err != nil {
		t.Fatal(err)
	}

	// The tree git builds for the same edits is the reference.
	want, err := repo.CommitFiles("want", map[string]*File{
		"a":        {Content: "now a file\n", Mode: "100755"}, // replaces the directory
		"e/f.yaml": {Content: "d\n"},
		"link":     {Content: "e/f.yaml", Mode: "120000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantTree, err := repo.TreeOf(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.ApplyTree(baseTree, []TreeEdit{
		{Path: "a/b.yaml", Delete: true},
		{Path: "a/c.yaml", Delete: true},
		{Path: "a", Mode: "100755", Content: []byte("now a file\n")},
		{Path: "e/f.yaml", Mode: "100644", SHA: dBlob},
		{Path: "link", Mode: "120000", Content: []byte("e/f.yaml")},
		{Path: "missing/x.yaml", Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != wantTree {
		t.Fatalf("tree %s, git's %s", got, wantTree)
	}

	clashes := map[string][]TreeEdit{
		"file over a non-empty directory": {{Path: "a", Mode: "100644", SHA: dBlob}},
		"file under a file":               {{Path: "d.yaml/x", Mode: "100644", SHA: dBlob}},
		"deleting a directory":            {{Path: "a", Delete: true}},
	}
	for name, edits := range clashes {
		if _, err := repo.ApplyTree(baseTree, edits); err == nil || !strings.Contains(err.Error(), "apply edit") {
			t.Errorf("%s: error %v, want a clash", name, err)
		}
	}
}

// TestMergeRevertAgreesWithRevert checks the fast oracle against git revert
// itself on a generated history.
func TestMergeRevertAgreesWithRevert(t *testing.T) {
	h, err := Generate(filepath.Join(t.TempDir(), "repo"), Options{Seed: 11, Commits: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	outcomes := map[Outcome]int{}
	for i := 1; i < len(h.Commits); i++ {
		for _, j := range []int{i, i + 3, len(h.Commits) - 1} {
			if j >= len(h.Commits) {
				continue
			}
			c, head := h.Commits[i].SHA, h.Commits[j].SHA
			slow, err := h.Revert(c, head)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := h.MergeRevert(c, head)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(slow.Unmerged)
			sort.Strings(fast.Unmerged)
			if slow.Outcome != fast.Outcome || slow.Tree != fast.Tree || !reflect.DeepEqual(slow.Unmerged, fast.Unmerged) {
				t.Fatalf("revert %s on %s: git revert %+v, merge-tree %+v", c, head, slow, fast)
			}
			outcomes[slow.Outcome]++
		}
	}
	if outcomes[Clean] == 0 || outcomes[Conflict] == 0 || outcomes[NothingToCommit] == 0 {
		t.Fatalf("outcomes %v do not cover all three", outcomes)
	}
	t.Logf("outcomes: %v", outcomes)
}
