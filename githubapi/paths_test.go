package githubapi_test

import (
	"context"
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
