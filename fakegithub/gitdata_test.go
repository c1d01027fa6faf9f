package fakegithub_test

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// seed makes the first commit on main with the given files.
func seed(t *testing.T, repo *fakegithub.Repo, files map[string]string) string {
	t.Helper()
	spec := fakegithub.CommitSpec{Message: "Initial commit", Author: fluxAuthor, Files: map[string]*fakegithub.File{}}
	for p, c := range files {
		spec.Files[p] = &fakegithub.File{Content: c}
	}
	sha, err := repo.Commit("main", spec)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestRevertFlowOverGitDataAPI plays what the app does: blob -> tree with
// base_tree -> commit -> ref -> pull request, checked against the state.
func TestRevertFlowOverGitDataAPI(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"apps/podinfo/release.yaml": "image: podinfo:1.1.0\n", "README.md": "hi\n"})
	gh := e.installationClient(t)

	ref, _, err := gh.Git.GetRef(ctx, "acme", "deploy", "heads/main")
	if err != nil || ref.GetObject().GetSHA() != head || ref.GetRef() != "refs/heads/main" {
		t.Fatalf("GetRef = %+v (%v)", ref, err)
	}
	commit, _, err := gh.Git.GetCommit(ctx, "acme", "deploy", head)
	if err != nil {
		t.Fatal(err)
	}
	blob, _, err := gh.Git.CreateBlob(ctx, "acme", "deploy", &github.Blob{
		Content: github.String(base64.StdEncoding.EncodeToString([]byte("image: podinfo:1.0.0\n"))), Encoding: github.String("base64"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "deploy", commit.GetTree().GetSHA(), []*github.TreeEntry{
		{Path: github.String("apps/podinfo/release.yaml"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA},
	})
	if err != nil {
		t.Fatal(err)
	}
	created, _, err := gh.Git.CreateCommit(ctx, "acme", "deploy", &github.Commit{
		Message: github.String("Revert \"Update podinfo\"\n\nThis reverts commit " + head + "."),
		Tree:    &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.String(head)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !created.GetVerification().GetVerified() || created.GetAuthor().GetName() != "flux-rollback[bot]" {
		t.Fatalf("commit without author: verification %+v, author %+v", created.GetVerification(), created.GetAuthor())
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "deploy", &github.Reference{
		Ref: github.String("refs/heads/rollback-1234567"), Object: &github.GitObject{SHA: created.SHA},
	}); err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Git.CreateRef(ctx, "acme", "deploy", &github.Reference{
		Ref: github.String("refs/heads/rollback-1234567"), Object: &github.GitObject{SHA: created.SHA},
	})
	wantStatus(t, err, http.StatusUnprocessableEntity, "Reference already exists")

	pr, _, err := gh.PullRequests.Create(ctx, "acme", "deploy", &github.NewPullRequest{
		Title: github.String("Roll back podinfo"), Head: github.String("rollback-1234567"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetHead().GetSHA() != created.GetSHA() || pr.GetBase().GetRef() != "main" || pr.GetNumber() != 1 {
		t.Fatalf("pull request = %+v", pr)
	}
	if got, err := e.repo.ReadFile("rollback-1234567", "apps/podinfo/release.yaml"); err != nil || got != "image: podinfo:1.0.0\n" {
		t.Fatalf("release.yaml on the rollback branch = %q (%v)", got, err)
	}
	if got, _ := e.repo.ReadFile("rollback-1234567", "README.md"); got != "hi\n" {
		t.Fatalf("README.md was not kept from base_tree: %q", got)
	}
	prs := e.repo.PullRequests()
	if len(prs) != 1 || prs[0].Head != "rollback-1234567" || prs[0].HeadSHA != created.GetSHA() {
		t.Fatalf("PullRequests() = %+v", prs)
	}
}

// TestCreateTreeMatchesGit applies nested paths, deletions that empty a
// directory and content entries on a base tree, and compares the result with
// the tree git writes for the same change.
func TestCreateTreeMatchesGit(t *testing.T) {
	git := newGitRepo(t)
	git.write("apps/a/release.yaml", "a: 1\n", 0o644)
	git.write("apps/b/release.yaml", "b: 1\n", 0o644)
	git.write("apps/b/extra.yaml", "extra\n", 0o644)
	git.write("top.txt", "top\n", 0o644)
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "base")
	base := git.run("", "rev-parse", "HEAD^{tree}")
	git.run("", "rm", "-q", "apps/b/release.yaml", "apps/b/extra.yaml")
	git.write("apps/a/release.yaml", "a: 2\n", 0o644)
	git.write("apps/c/new/deep.yaml", "deep\n", 0o755)
	git.run("", "add", "-A")
	want := git.run("", "write-tree")

	e := newEnv(t)
	seed(t, e.repo, map[string]string{
		"apps/a/release.yaml": "a: 1\n", "apps/b/release.yaml": "b: 1\n", "apps/b/extra.yaml": "extra\n", "top.txt": "top\n",
	})
	gh := e.installationClient(t)
	baseTree, _, err := gh.Git.GetTree(ctx, "acme", "deploy", "main", false)
	if err != nil || baseTree.GetSHA() != base {
		t.Fatalf("tree of main = %s (%v), git says %s", baseTree.GetSHA(), err, base)
	}
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "deploy", base, []*github.TreeEntry{
		{Path: github.String("apps/b/release.yaml"), Mode: github.String("100644"), Type: github.String("blob")},
		{Path: github.String("apps/b/extra.yaml"), Mode: github.String("100644"), Type: github.String("blob")},
		{Path: github.String("apps/a/release.yaml"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("a: 2\n")},
		{Path: github.String("apps/c/new/deep.yaml"), Mode: github.String("100755"), Type: github.String("blob"), Content: github.String("deep\n")},
	})
	if err != nil || tree.GetSHA() != want {
		t.Fatalf("created tree = %s (%v), git says %s", tree.GetSHA(), err, want)
	}

	_, _, err = gh.Git.CreateTree(ctx, "acme", "deploy", base, []*github.TreeEntry{
		{Path: github.String("x"), Mode: github.String("100644"), Type: github.String("blob"), SHA: github.String(strings.Repeat("0", 40))},
	})
	wantStatus(t, err, http.StatusUnprocessableEntity, "")
	_, _, err = gh.Git.CreateTree(ctx, "acme", "deploy", base, []*github.TreeEntry{
		{Path: github.String("x"), Mode: github.String("100600"), Type: github.String("blob"), Content: github.String("x")},
	})
	wantStatus(t, err, http.StatusUnprocessableEntity, "")
}

func TestGetTreeAcceptsTreeishForms(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"app/bases/a.yaml": "a\n", "app/bases/sub/b.yaml": "b\n", "top.txt": "t\n"})
	if err := e.repo.SetRef("tags/v1", head); err != nil {
		t.Fatal(err)
	}
	gh := e.installationClient(t)
	info, _ := e.repo.CommitInfo(head)

	names := func(tr *github.Tree) string {
		var out []string
		for _, en := range tr.Entries {
			out = append(out, en.GetPath()+":"+en.GetType())
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	var bases string
	for _, treeish := range []string{"main:app/bases", head + ":app/bases", "v1:app/bases"} {
		tr, _, err := gh.Git.GetTree(ctx, "acme", "deploy", treeish, false)
		if err != nil {
			t.Fatalf("GetTree(%s): %v", treeish, err)
		}
		if got := names(tr); got != "a.yaml:blob,sub:tree" {
			t.Fatalf("GetTree(%s) = %s", treeish, got)
		}
		bases = tr.GetSHA()
	}
	for _, treeish := range []string{info.Tree, head, "main", "v1"} {
		tr, _, err := gh.Git.GetTree(ctx, "acme", "deploy", treeish, false)
		if err != nil || tr.GetSHA() != info.Tree {
			t.Fatalf("GetTree(%s) = %s (%v), want %s", treeish, tr.GetSHA(), err, info.Tree)
		}
	}
	tr, _, err := gh.Git.GetTree(ctx, "acme", "deploy", bases, true)
	if err != nil || names(tr) != "a.yaml:blob,sub/b.yaml:blob,sub:tree" {
		t.Fatalf("recursive GetTree = %s (%v)", names(tr), err)
	}
	for _, missing := range []string{"main:nope", "main:top.txt", "nope", strings.Repeat("1", 40)} {
		_, _, err := gh.Git.GetTree(ctx, "acme", "deploy", missing, false)
		wantStatus(t, err, http.StatusNotFound, "Not Found")
	}
}

func TestRefs(t *testing.T) {
	e := newEnv(t)
	first := seed(t, e.repo, map[string]string{"a": "1"})
	second, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "two", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	gh := e.installationClient(t)
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "deploy", &github.Reference{Ref: github.String("refs/heads/old"), Object: &github.GitObject{SHA: github.String(first)}}); err != nil {
		t.Fatal(err)
	}
	// Fast-forward, then a rewind that needs force.
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "deploy", &github.Reference{Ref: github.String("refs/heads/old"), Object: &github.GitObject{SHA: github.String(second)}}, false); err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Git.UpdateRef(ctx, "acme", "deploy", &github.Reference{Ref: github.String("refs/heads/old"), Object: &github.GitObject{SHA: github.String(first)}}, false)
	wantStatus(t, err, http.StatusUnprocessableEntity, "Update is not a fast forward")
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "deploy", &github.Reference{Ref: github.String("refs/heads/old"), Object: &github.GitObject{SHA: github.String(first)}}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.repo.Ref("old"); got != first {
		t.Fatalf("old = %s after a forced update, want %s", got, first)
	}
	refs, _, err := gh.Git.ListMatchingRefs(ctx, "acme", "deploy", &github.ReferenceListOptions{Ref: "heads/"})
	if err != nil || len(refs) != 2 || refs[0].GetRef() != "refs/heads/main" || refs[1].GetRef() != "refs/heads/old" {
		t.Fatalf("matching refs = %v (%v)", refs, err)
	}
	_, _, err = gh.Git.CreateRef(ctx, "acme", "deploy", &github.Reference{Ref: github.String("refs/heads/x"), Object: &github.GitObject{SHA: github.String(strings.Repeat("1", 40))}})
	wantStatus(t, err, http.StatusUnprocessableEntity, "Object does not exist")
	if _, err := gh.Git.DeleteRef(ctx, "acme", "deploy", "heads/old"); err != nil {
		t.Fatal(err)
	}
	_, err = gh.Git.DeleteRef(ctx, "acme", "deploy", "heads/old")
	wantStatus(t, err, http.StatusUnprocessableEntity, "Reference does not exist")
	_, _, err = gh.Git.GetRef(ctx, "acme", "deploy", "heads/old")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
	if err := e.repo.SetRef("feature/x", first); err != nil {
		t.Fatal(err)
	}
	slashed, _, err := gh.Repositories.GetBranch(ctx, "acme", "deploy", "feature/x", 0)
	if err != nil || slashed.GetName() != "feature/x" || slashed.GetCommit().GetSHA() != first {
		t.Fatalf("branch with a slash = %+v (%v)", slashed, err)
	}
	if ref, _, err := gh.Git.GetRef(ctx, "acme", "deploy", "refs/heads/feature/x"); err != nil || ref.GetObject().GetSHA() != first {
		t.Fatalf("ref with a slash = %+v (%v)", ref, err)
	}
	branch, _, err := gh.Repositories.GetBranch(ctx, "acme", "deploy", "main", 0)
	if err != nil || branch.GetCommit().GetSHA() != second || branch.GetCommit().GetCommit().GetTree().GetSHA() == "" {
		t.Fatalf("branch = %+v (%v)", branch, err)
	}
}

func TestBlobs(t *testing.T) {
	e := newEnv(t)
	gh := e.installationClient(t)
	content := strings.Repeat("0123456789", 20) + "\n"
	blob, _, err := gh.Git.CreateBlob(ctx, "acme", "deploy", &github.Blob{Content: github.String(content), Encoding: github.String("utf-8")})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := gh.Git.GetBlob(ctx, "acme", "deploy", blob.GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := base64.StdEncoding.DecodeString(got.GetContent())
	if err != nil || string(decoded) != content || got.GetEncoding() != "base64" || got.GetSize() != len(content) {
		t.Fatalf("blob = %+v (%v)", got, err)
	}
	raw, _, err := gh.Git.GetBlobRaw(ctx, "acme", "deploy", blob.GetSHA())
	if err != nil || string(raw) != content {
		t.Fatalf("raw blob = %q (%v)", raw, err)
	}
}

// TestCreateTreeModes sets a directory by SHA, a gitlink and a symlink
// through the API and compares the tree with git mktree's.
func TestCreateTreeModes(t *testing.T) {
	git := newGitRepo(t)
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"lib/x.txt": "x\n"})
	gh := e.installationClient(t)
	lib, _, err := gh.Git.GetTree(ctx, "acme", "deploy", "main:lib", false)
	if err != nil {
		t.Fatal(err)
	}
	gitlink := strings.Repeat("cd", 20)
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "deploy", "", []*github.TreeEntry{
		{Path: github.String("copy"), Mode: github.String("040000"), Type: github.String("tree"), SHA: lib.SHA},
		{Path: github.String("vendor/mod"), Mode: github.String("160000"), Type: github.String("commit"), SHA: github.String(gitlink)},
		{Path: github.String("link"), Mode: github.String("120000"), Type: github.String("blob"), Content: github.String("copy/x.txt")},
	})
	if err != nil {
		t.Fatal(err)
	}
	linkBlob := git.run("copy/x.txt", "hash-object", "-w", "--stdin")
	xBlob := git.run("x\n", "hash-object", "-w", "--stdin")
	libTree := git.run("100644 blob "+xBlob+"\tx.txt\n", "mktree")
	vendor := git.run("160000 commit "+gitlink+"\tmod\n", "mktree", "--missing")
	want := git.run("040000 tree "+libTree+"\tcopy\n120000 blob "+linkBlob+"\tlink\n040000 tree "+vendor+"\tvendor\n", "mktree")
	if tree.GetSHA() != want {
		t.Fatalf("tree = %s, git says %s", tree.GetSHA(), want)
	}
	full, _, err := gh.Git.GetTree(ctx, "acme", "deploy", tree.GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]string{}
	for _, en := range full.Entries {
		modes[en.GetPath()] = en.GetMode() + " " + en.GetType()
	}
	if modes["vendor/mod"] != "160000 commit" || modes["link"] != "120000 blob" || modes["copy"] != "040000 tree" || modes["copy/x.txt"] != "100644 blob" {
		t.Fatalf("modes = %v", modes)
	}
}

func TestCreateTreeRefusesToDeleteMissingPaths(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"apps/a.yaml": "a"})
	info, _ := e.repo.CommitInfo(head)
	gh := e.installationClient(t)
	for _, p := range []string{"apps/missing.yaml", "missing/a.yaml", "apps/a.yaml/below"} {
		_, _, err := gh.Git.CreateTree(ctx, "acme", "deploy", info.Tree, []*github.TreeEntry{
			{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob")},
		})
		wantStatus(t, err, http.StatusUnprocessableEntity, "GitRPC::BadObjectState")
	}
	_, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "x", Author: fluxAuthor, Files: map[string]*fakegithub.File{"nope": nil}})
	if err == nil {
		t.Fatal("Commit deleted a path that does not exist")
	}
	_, _, err = gh.Git.CreateTree(ctx, "acme", "deploy", strings.Repeat("1", 40), []*github.TreeEntry{
		{Path: github.String("x"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("x")},
	})
	wantStatus(t, err, http.StatusUnprocessableEntity, "base_tree is not a valid tree oid")
}
