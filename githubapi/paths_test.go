package githubapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// TestDirOfUnusualPaths: directory names with spaces and URL metacharacters
// reach GitHub intact.
func TestDirOfUnusualPaths(t *testing.T) {
	e := newFakeEnv(t, nil)
	dirs := []string{"apps/my app", "apps/a#b", "apps/q?x=1", "apps/100%", "apps/ünï"}
	files := map[string]*fakegithub.File{}
	for _, d := range dirs {
		files[d+"/deploy.yaml"] = &fakegithub.File{Content: "image: x:1\n"}
	}
	sha, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "add", Author: fakegithub.Person{Name: "a", Email: "a@example.com"}, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		entries, err := e.api.Dir(context.Background(), sha, d)
		if err != nil {
			t.Fatalf("Dir(%q): %v", d, err)
		}
		if _, ok := entries["deploy.yaml"]; !ok || len(entries) != 1 {
			t.Errorf("Dir(%q) = %v, want deploy.yaml alone", d, entries)
		}
	}
}

// TestHeadOfABranchWithSlashes: watched branches like release/prod are
// compared as one name.
func TestHeadOfABranchWithSlashes(t *testing.T) {
	e := newFakeEnv(t, nil)
	author := fakegithub.Person{Name: "a", Email: "a@example.com"}
	first, err := e.repo.Commit("release/prod", fakegithub.CommitSpec{Message: "one", Author: author, Files: map[string]*fakegithub.File{"a.yaml": {Content: "a\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.repo.Commit("release/prod", fakegithub.CommitSpec{Message: "two", Author: author, Files: map[string]*fakegithub.File{"a.yaml": {Content: "b\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.api.Head(context.Background(), "release/prod", first)
	if err != nil {
		t.Fatal(err)
	}
	if head.SHA != second || !head.Contains {
		t.Errorf("Head = %+v, want %s containing %s", head, second, first)
	}
}

// TestCommitListsEveryFile: GitHub pages a commit's files 300 at a time.
func TestCommitListsEveryFile(t *testing.T) {
	e := newFakeEnv(t, nil)
	author := fakegithub.Person{Name: "a", Email: "a@example.com"}
	if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "base", Author: author, Files: map[string]*fakegithub.File{"README.md": {Content: "x\n"}}}); err != nil {
		t.Fatal(err)
	}
	files := map[string]*fakegithub.File{}
	for i := range 650 {
		files[fmt.Sprintf("envs/e%03d/kustomization.yaml", i)] = &fakegithub.File{Content: fmt.Sprintf("newTag: %d\n", i)}
	}
	sha, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "many", Author: author, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.api.Commit(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 650 {
		t.Errorf("Commit lists %d files, want 650", len(c.Files))
	}
}
