package fakegithub_test

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// TestRenamesMatchGit makes the same two commits in the fake and in a git
// repository: the second renames files after changing a share of their
// lines, deletes some and adds others. The compare and commit APIs must
// report as "renamed" (with previous_filename) exactly the pairs
// `git diff -M --name-status` reports, wherever the similarity is clear
// of git's 50% threshold. Near it the fake's scoring (go-git's, JGit's
// algorithm) may disagree with git's; those files are logged, not checked.
func TestRenamesMatchGit(t *testing.T) {
	git := newGitRepo(t)
	e := newEnv(t)
	rng := rand.New(rand.NewSource(7))
	line := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz"
		b := make([]byte, 12)
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return "  key: " + string(b)
	}
	const lines = 20
	fileOf := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }

	// changed[i] is how many of file i's 20 lines the rename replaces.
	changed := []int{0, 0, 1, 2, 4, 6, 8, 9, 10, 11, 12, 14, 16, 20}
	nearThreshold := func(k int) bool { return k >= 8 && k <= 12 }
	base := map[string]string{}
	head := map[string]*string{}
	contents := make([][]string, len(changed))
	for i := range changed {
		contents[i] = make([]string, lines)
		for j := range contents[i] {
			contents[i][j] = line()
		}
		base[fmt.Sprintf("apps/f%02d.yaml", i)] = fileOf(contents[i])
	}
	for i, k := range changed {
		ls := append([]string{}, contents[i]...)
		for _, j := range rng.Perm(lines)[:k] {
			ls[j] = line()
		}
		old := fmt.Sprintf("apps/f%02d.yaml", i)
		head[old] = nil
		content := fileOf(ls)
		head[fmt.Sprintf("moved/g%02d.yaml", i)] = &content
	}
	kept, deleted, added := "kept\n", fileOf(contents[0][:3]), fileOf([]string{line(), line()})
	base["keep.yaml"], base["deleted.yaml"] = kept, deleted
	head["deleted.yaml"], head["added.yaml"] = nil, &added

	// The same commits in git and in the fake.
	for p, c := range base {
		git.write(p, c, 0o644)
	}
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "base")
	baseSpec := map[string]*fakegithub.File{}
	for p, c := range base {
		baseSpec[p] = &fakegithub.File{Content: c}
	}
	baseSHA, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "base", Author: fluxAuthor, Files: baseSpec})
	if err != nil {
		t.Fatal(err)
	}
	headSpec := map[string]*fakegithub.File{}
	for p, c := range head {
		if c == nil {
			git.run("", "rm", "-q", p)
			headSpec[p] = nil
			continue
		}
		git.write(p, *c, 0o644)
		headSpec[p] = &fakegithub.File{Content: *c}
	}
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "head")
	headSHA, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "head", Author: fluxAuthor, Files: headSpec})
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]string{} // git's renames, old -> new
	for _, l := range strings.Split(git.run("", "diff", "-M", "--name-status", "HEAD~1", "HEAD"), "\n") {
		f := strings.Split(l, "\t")
		if strings.HasPrefix(f[0], "R") {
			want[f[1]] = f[2]
		}
	}
	if len(want) < 5 {
		t.Fatalf("git found only %d renames: %v", len(want), want)
	}

	gh := e.installationClient(t)
	cmp, _, err := gh.Repositories.CompareCommits(ctx, "acme", "deploy", baseSHA, headSHA, nil)
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := gh.Repositories.GetCommit(ctx, "acme", "deploy", headSHA, nil)
	if err != nil {
		t.Fatal(err)
	}
	for api, files := range map[string][]*github.CommitFile{"compare": cmp.Files, "commit": commit.Files} {
		got := map[string]string{}
		statuses := map[string]string{}
		for _, f := range files {
			statuses[f.GetFilename()] = f.GetStatus()
			if f.GetStatus() == "renamed" {
				got[f.GetPreviousFilename()] = f.GetFilename()
			}
		}
		if statuses["added.yaml"] != "added" || statuses["deleted.yaml"] != "removed" || statuses["keep.yaml"] != "" {
			t.Errorf("%s: statuses %v", api, statuses)
		}
		var disagree []string
		for i, k := range changed {
			old := fmt.Sprintf("apps/f%02d.yaml", i)
			if got[old] == want[old] {
				continue
			}
			if nearThreshold(k) {
				disagree = append(disagree, fmt.Sprintf("%s with %d of %d lines changed: git %q, fake %q", old, k, lines, want[old], got[old]))
				continue
			}
			t.Errorf("%s: %s with %d of %d lines changed renamed to %q, git says %q", api, old, k, lines, got[old], want[old])
		}
		for old, now := range got {
			if !strings.HasPrefix(old, "apps/") && want[old] != now {
				t.Errorf("%s: renamed %s -> %s, git says %q", api, old, now, want[old])
			}
		}
		sort.Strings(disagree)
		if len(disagree) > 0 {
			t.Logf("%s: near git's threshold the fake's rename detection disagrees with git on %v", api, disagree)
		}
	}
}
