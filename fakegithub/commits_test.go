package fakegithub_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// hunks is git's patch for one file without the header GitHub leaves out.
func hunks(git *gitRepo, from, to, path string) string {
	out := git.run("", "diff", "--no-renames", "--no-color", from, to, "--", path)
	i := strings.Index(out, "@@")
	if i < 0 {
		return ""
	}
	return out[i:]
}

func TestGetCommitFilesAndPatches(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
	after := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nK\nl\nm\n"
	git := newGitRepo(t)
	git.write("list.txt", before, 0o644)
	git.write("gone.txt", "bye\n", 0o644)
	git.write("mode.sh", "echo\n", 0o644)
	git.write("noeol.txt", "x", 0o644)
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "one")
	git.write("list.txt", after, 0o644)
	git.write("new/file.txt", "hello\n", 0o644)
	git.write("mode.sh", "echo\n", 0o755)
	git.write("noeol.txt", "y", 0o644)
	git.run("", "rm", "-q", "gone.txt")
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "two")

	e := newEnv(t)
	seed(t, e.repo, map[string]string{"list.txt": before, "gone.txt": "bye\n", "mode.sh": "echo\n", "noeol.txt": "x"})
	sha, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "two", Author: fluxAuthor, Files: map[string]*fakegithub.File{
		"list.txt": {Content: after}, "new/file.txt": {Content: "hello\n"}, "gone.txt": nil,
		"mode.sh": {Content: "echo\n", Mode: "100755"}, "noeol.txt": {Content: "y"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := e.installationClient(t).Repositories.GetCommit(ctx, "acme", "deploy", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetAuthor().GetLogin() != "fluxcdbot" || rc.GetCommit().GetMessage() != "two" || len(rc.Parents) != 1 {
		t.Fatalf("commit = author %v, message %q, parents %d", rc.GetAuthor(), rc.GetCommit().GetMessage(), len(rc.Parents))
	}
	want := map[string]struct {
		status     string
		adds, dels int
	}{
		"gone.txt":     {"removed", 0, 1},
		"list.txt":     {"modified", 3, 2},
		"mode.sh":      {"changed", 0, 0},
		"new/file.txt": {"added", 1, 0},
		"noeol.txt":    {"modified", 1, 1},
	}
	if len(rc.Files) != len(want) {
		t.Fatalf("files = %d, want %d", len(rc.Files), len(want))
	}
	for _, f := range rc.Files {
		w, ok := want[f.GetFilename()]
		if !ok || f.GetStatus() != w.status || f.GetAdditions() != w.adds || f.GetDeletions() != w.dels || f.GetChanges() != w.adds+w.dels {
			t.Errorf("%s: status %s +%d -%d, want %+v", f.GetFilename(), f.GetStatus(), f.GetAdditions(), f.GetDeletions(), w)
		}
		if w.status == "changed" {
			continue
		}
		if gitPatch := hunks(git, "HEAD~1", "HEAD", f.GetFilename()); f.GetPatch() != gitPatch {
			t.Errorf("%s patch:\n%s\ngit:\n%s", f.GetFilename(), f.GetPatch(), gitPatch)
		}
	}
	if rc.GetStats().GetAdditions() != 5 || rc.GetStats().GetDeletions() != 4 {
		t.Errorf("stats = %+v", rc.GetStats())
	}
	short, _, err := e.installationClient(t).Repositories.GetCommitSHA1(ctx, "acme", "deploy", "main", "")
	if err != nil || short != sha {
		t.Fatalf("GetCommitSHA1 = %q (%v)", short, err)
	}
	_, _, err = e.installationClient(t).Repositories.GetCommit(ctx, "acme", "deploy", "nope", nil)
	wantStatus(t, err, http.StatusUnprocessableEntity, "No commit found for SHA: nope")
}

func TestListCommitsAndCompare(t *testing.T) {
	e := newEnv(t)
	var shas []string
	shas = append(shas, seed(t, e.repo, map[string]string{"apps/a.yaml": "0", "other.txt": "0"}))
	for i, p := range []string{"apps/a.yaml", "other.txt", "apps/a.yaml", "other.txt"} {
		sha, err := e.repo.Commit("main", fakegithub.CommitSpec{
			Message: "change " + p, Author: fakegithub.Person{Name: "Dev", Email: "dev@example.com", Date: authorDate.Add(minutes(i + 1))},
			Files: map[string]*fakegithub.File{p: {Content: string(rune('1' + i))}},
		})
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, sha)
	}
	gh := e.installationClient(t)
	all, resp, err := gh.Repositories.ListCommits(ctx, "acme", "deploy", &github.CommitsListOptions{ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil || len(all) != 2 || all[0].GetSHA() != shas[4] || resp.NextPage != 2 || resp.LastPage != 3 {
		t.Fatalf("page 1 = %d commits, next %d, last %d (%v)", len(all), resp.NextPage, resp.LastPage, err)
	}
	apps, _, err := gh.Repositories.ListCommits(ctx, "acme", "deploy", &github.CommitsListOptions{Path: "apps"})
	if err != nil || len(apps) != 3 || apps[0].GetSHA() != shas[3] || apps[1].GetSHA() != shas[1] || apps[2].GetSHA() != shas[0] {
		t.Fatalf("commits touching apps = %d (%v)", len(apps), err)
	}
	cmp, _, err := gh.Repositories.CompareCommits(ctx, "acme", "deploy", shas[1], "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 3 || cmp.GetBehindBy() != 0 || len(cmp.Commits) != 3 || cmp.Commits[0].GetSHA() != shas[2] {
		t.Fatalf("compare = status %s ahead %d behind %d commits %d", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), len(cmp.Commits))
	}
	if len(cmp.Files) != 2 || cmp.GetMergeBaseCommit().GetSHA() != shas[1] {
		t.Fatalf("compare files = %d, merge base %s", len(cmp.Files), cmp.GetMergeBaseCommit().GetSHA())
	}
	back, _, err := gh.Repositories.CompareCommits(ctx, "acme", "deploy", "main", shas[1], nil)
	if err != nil || back.GetStatus() != "behind" || back.GetBehindBy() != 3 {
		t.Fatalf("reverse compare = %s %d (%v)", back.GetStatus(), back.GetBehindBy(), err)
	}
}

func TestContents(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("x", 1<<20+1)
	head := seed(t, e.repo, map[string]string{".github/flux-rollback.yml": "enabled: true\n", "big.bin": big, "dir/a.txt": "a\n"})
	if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "link", Author: fluxAuthor, Files: map[string]*fakegithub.File{
		"dir/link": {Content: "a.txt", Mode: "120000"}, "dir/dangling": {Content: "../nowhere", Mode: "120000"},
	}}); err != nil {
		t.Fatal(err)
	}
	gh := e.installationClient(t)
	file, _, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", ".github/flux-rollback.yml", &github.RepositoryContentGetOptions{Ref: head})
	if err != nil {
		t.Fatal(err)
	}
	if content, err := file.GetContent(); err != nil || content != "enabled: true\n" || file.GetType() != "file" {
		t.Fatalf("file = %q %s (%v)", content, file.GetType(), err)
	}
	_, root, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "", nil)
	if err != nil || len(root) != 3 {
		t.Fatalf("root = %d entries (%v)", len(root), err)
	}
	_, dir, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "dir", nil)
	if err != nil || len(dir) != 3 {
		t.Fatalf("dir = %d entries (%v)", len(dir), err)
	}
	link, _, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "dir/link", nil)
	if content, _ := link.GetContent(); err != nil || content != "a\n" || link.GetPath() != "dir/a.txt" {
		t.Fatalf("symlink to a file = %+v (%v)", link, err)
	}
	dangling, _, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "dir/dangling", nil)
	if err != nil || dangling.GetType() != "symlink" || dangling.GetTarget() != "../nowhere" {
		t.Fatalf("dangling symlink = %+v (%v)", dangling, err)
	}
	_, _, resp, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "missing.yml", nil)
	wantStatus(t, err, http.StatusNotFound, "Not Found")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	large, _, _, err := gh.Repositories.GetContents(ctx, "acme", "deploy", "big.bin", nil)
	if err != nil || large.GetEncoding() != "none" {
		t.Fatalf("large file = encoding %q (%v)", large.GetEncoding(), err)
	}
	rc, _, err := gh.Repositories.DownloadContents(ctx, "acme", "deploy", "big.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != big {
		t.Fatalf("downloaded %d bytes, want %d", len(b), len(big))
	}
}
