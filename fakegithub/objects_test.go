package fakegithub_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// gitRepo is a scratch repository worked with the real git binary.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found")
	}
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.run("", "init", "-q", "-b", "main")
	return g
}

// run runs git with stdin and returns its trimmed output. Identities and
// dates are fixed so that commits are reproducible.
func (g *gitRepo) run(stdin string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Flux Bot", "GIT_AUTHOR_EMAIL=flux@example.com", "GIT_AUTHOR_DATE=1700000000 +0200",
		"GIT_COMMITTER_NAME=Flux Bot", "GIT_COMMITTER_EMAIL=flux@example.com", "GIT_COMMITTER_DATE=1700000100 +0200",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitRepo) write(path, content string, mode os.FileMode) {
	g.t.Helper()
	full := filepath.Join(g.dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		g.t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		g.t.Fatal(err)
	}
}

var (
	zone       = time.FixedZone("", 2*60*60)
	authorDate = time.Unix(1700000000, 0).In(zone)
	commitDate = time.Unix(1700000100, 0).In(zone)
	fluxAuthor = fakegithub.Person{Name: "Flux Bot", Email: "flux@example.com", Login: "fluxcdbot", Date: authorDate}
	fluxCommit = fakegithub.Person{Name: "Flux Bot", Email: "flux@example.com", Date: commitDate}
)

func TestObjectSHAsMatchGit(t *testing.T) {
	git := newGitRepo(t)
	e := newEnv(t)
	repo := e.repo

	blob, err := repo.WriteBlob([]byte("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := git.run("hello\n", "hash-object", "-w", "--stdin"); blob != want {
		t.Fatalf("blob = %s, git says %s", blob, want)
	}
	other := git.run("#!/bin/sh\n", "hash-object", "-w", "--stdin")
	if got, _ := repo.WriteBlob([]byte("#!/bin/sh\n")); got != other {
		t.Fatalf("blob = %s, git says %s", got, other)
	}
	sub := git.run("100644 blob "+blob+"\tinner.txt\n", "mktree")
	if got, err := repo.WriteTree([]fakegithub.TreeEntry{{Name: "inner.txt", Mode: "100644", SHA: blob}}); err != nil || got != sub {
		t.Fatalf("subtree = %s (%v), git says %s", got, err, sub)
	}
	// "a" is a directory: git sorts it as "a/", after "a-b" and "a.b".
	gitlink := strings.Repeat("ab", 20)
	tree := git.run(strings.Join([]string{
		"040000 tree " + sub + "\ta",
		"100644 blob " + blob + "\ta.b",
		"100755 blob " + other + "\ta-b",
		"120000 blob " + blob + "\tlink",
		"160000 commit " + gitlink + "\tvendor",
	}, "\n")+"\n", "mktree", "--missing")
	got, err := repo.WriteTree([]fakegithub.TreeEntry{
		{Name: "vendor", Mode: "160000", SHA: gitlink},
		{Name: "link", Mode: "120000", SHA: blob},
		{Name: "a", Mode: "040000", SHA: sub},
		{Name: "a.b", Mode: "100644", SHA: blob},
		{Name: "a-b", Mode: "100755", SHA: other},
	})
	if err != nil || got != tree {
		t.Fatalf("tree = %s (%v), git says %s", got, err, tree)
	}
	root := git.run("Initial\n", "commit-tree", tree)
	child := git.run("Second\n\nWith a body.\n", "commit-tree", tree, "-p", root)
	gotRoot, err := repo.WriteCommit(fakegithub.CommitObject{
		Tree:      tree,
		Author:    fakegithub.Signature{Name: "Flux Bot", Email: "flux@example.com", When: authorDate},
		Committer: fakegithub.Signature{Name: "Flux Bot", Email: "flux@example.com", When: commitDate},
		Message:   "Initial\n",
	})
	if err != nil || gotRoot != root {
		t.Fatalf("root commit = %s (%v), git says %s", gotRoot, err, root)
	}
	gotChild, err := repo.WriteCommit(fakegithub.CommitObject{
		Tree:      tree,
		Parents:   []string{root},
		Author:    fakegithub.Signature{Name: "Flux Bot", Email: "flux@example.com", When: authorDate},
		Committer: fakegithub.Signature{Name: "Flux Bot", Email: "flux@example.com", When: commitDate},
		Message:   "Second\n\nWith a body.\n",
	})
	if err != nil || gotChild != child {
		t.Fatalf("child commit = %s (%v), git says %s", gotChild, err, child)
	}
}

func TestWriteTreeRejectsMissingObjects(t *testing.T) {
	e := newEnv(t)
	_, err := e.repo.WriteTree([]fakegithub.TreeEntry{{Name: "x", Mode: "100644", SHA: strings.Repeat("1", 40)}})
	if err == nil {
		t.Fatal("tree with a missing blob was accepted")
	}
	blob, _ := e.repo.WriteBlob([]byte("x"))
	if _, err := e.repo.WriteTree([]fakegithub.TreeEntry{{Name: "x", Mode: "040000", SHA: blob}}); err == nil {
		t.Fatal("a blob was accepted as a directory")
	}
}

// TestCommitMatchesGit builds the same two commits with git and with
// Repo.Commit and compares the SHAs: trees (nested directories, modes,
// symlinks, deletions that empty a directory) and commit encoding agree.
func TestCommitMatchesGit(t *testing.T) {
	git := newGitRepo(t)
	git.write("apps/podinfo/release.yaml", "image: podinfo:1.0.0\n", 0o644)
	git.write("apps/podinfo/kustomization.yaml", "resources: [release.yaml]\n", 0o644)
	git.write("scripts/deploy.sh", "#!/bin/sh\n", 0o755)
	git.write("clusters/prod/only.yaml", "x: 1\n", 0o644)
	if err := os.Symlink("../apps/podinfo", filepath.Join(git.dir, "clusters/podinfo")); err != nil {
		t.Fatal(err)
	}
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "Initial commit")
	first := git.run("", "rev-parse", "HEAD")

	git.write("apps/podinfo/release.yaml", "image: podinfo:1.1.0\n", 0o644)
	git.run("", "rm", "-q", "clusters/prod/only.yaml")
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "Update podinfo to 1.1.0")
	second := git.run("", "rev-parse", "HEAD")

	e := newEnv(t)
	got, err := e.repo.Commit("main", fakegithub.CommitSpec{
		Message:   "Initial commit\n",
		Author:    fluxAuthor,
		Committer: &fluxCommit,
		Files: map[string]*fakegithub.File{
			"apps/podinfo/release.yaml":       {Content: "image: podinfo:1.0.0\n"},
			"apps/podinfo/kustomization.yaml": {Content: "resources: [release.yaml]\n"},
			"scripts/deploy.sh":               {Content: "#!/bin/sh\n", Mode: "100755"},
			"clusters/prod/only.yaml":         {Content: "x: 1\n"},
			"clusters/podinfo":                {Content: "../apps/podinfo", Mode: "120000"},
		},
	})
	if err != nil || got != first {
		t.Fatalf("first commit = %s (%v), git says %s", got, err, first)
	}
	got, err = e.repo.Commit("main", fakegithub.CommitSpec{
		Message:   "Update podinfo to 1.1.0\n",
		Author:    fluxAuthor,
		Committer: &fluxCommit,
		Files: map[string]*fakegithub.File{
			"apps/podinfo/release.yaml": {Content: "image: podinfo:1.1.0\n"},
			"clusters/prod/only.yaml":   nil,
		},
	})
	if err != nil || got != second {
		t.Fatalf("second commit = %s (%v), git says %s", got, err, second)
	}
	if tip, _ := e.repo.Ref("main"); tip != second {
		t.Fatalf("main = %s, want %s", tip, second)
	}
	files, err := e.repo.ReadTree("main")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["clusters/prod/only.yaml"]; ok {
		t.Fatal("deleted file still present")
	}
	if f := files["scripts/deploy.sh"]; f.Mode != "100755" || f.Content != "#!/bin/sh\n" {
		t.Fatalf("deploy.sh = %+v", f)
	}
}

// TestImportHistoryFromGit copies every object of a git repository with
// WriteObject and checks that each one keeps its SHA.
func TestImportHistoryFromGit(t *testing.T) {
	git := newGitRepo(t)
	git.write("a.txt", "one\n", 0o644)
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "one")
	git.write("dir/b.txt", "two\n", 0o644)
	git.run("", "add", "-A")
	git.run("", "commit", "-q", "-m", "two")
	git.run("", "tag", "-a", "v1", "-m", "release v1")
	head := git.run("", "rev-parse", "HEAD")

	e := newEnv(t)
	for _, line := range strings.Split(git.run("", "rev-list", "--objects", "--all"), "\n") {
		sha, _, _ := strings.Cut(line, " ")
		kind := git.run("", "cat-file", "-t", sha)
		cmd := exec.Command("git", "cat-file", kind, sha)
		cmd.Dir = git.dir
		content, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.repo.WriteObject(kind, content)
		if err != nil || got != sha {
			t.Fatalf("%s %s imported as %s (%v)", kind, sha, got, err)
		}
	}
	tagObject := git.run("", "rev-parse", "v1")
	tagKind := git.run("", "cat-file", "-t", tagObject)
	content, _ := exec.Command("git", "-C", git.dir, "cat-file", tagKind, tagObject).Output()
	if _, err := e.repo.WriteObject(tagKind, content); err != nil {
		t.Fatal(err)
	}
	if err := e.repo.SetRef("main", head); err != nil {
		t.Fatal(err)
	}
	if err := e.repo.SetRef("refs/tags/v1", tagObject); err != nil {
		t.Fatal(err)
	}
	if got, err := e.repo.ReadFile("v1", "dir/b.txt"); err != nil || got != "two\n" {
		t.Fatalf("dir/b.txt at the annotated tag = %q (%v)", got, err)
	}
	info, err := e.repo.CommitInfo("main")
	if err != nil || info.Message != "two\n" || len(info.Parents) != 1 {
		t.Fatalf("commit info = %+v (%v)", info, err)
	}
}
