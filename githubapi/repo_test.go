package githubapi_test

import (
	"context"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/revert"
)

// TestCreateTreeReplacesDirectoryWithFile: a revert that turns a directory
// back into a file deletes the directory's files and writes the file, in
// that order; GitHub must end with the file whichever order it applies the
// entries in.
func TestCreateTreeReplacesDirectoryWithFile(t *testing.T) {
	env := newFakeEnv(t, nil)
	write := func(content string) string {
		sha, err := env.repo.WriteBlob([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	tree := func(entries ...fakegithub.TreeEntry) string {
		sha, err := env.repo.WriteTree(entries)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	keep := fakegithub.TreeEntry{Name: "keep.yaml", Mode: "100644", SHA: write("kept\n")}
	apps := tree(fakegithub.TreeEntry{Name: "web.yaml", Mode: "100644", SHA: write("web\n")},
		fakegithub.TreeEntry{Name: "api.yaml", Mode: "100644", SHA: write("api\n")})
	base := tree(keep, fakegithub.TreeEntry{Name: "apps", Mode: "040000", SHA: apps})
	link := write("../shared/apps")
	want := tree(keep, fakegithub.TreeEntry{Name: "apps", Mode: "120000", SHA: link})

	got, err := env.api.CreateTree(context.Background(), base, []revert.Change{
		{Path: "apps/api.yaml", Delete: true},
		{Path: "apps/web.yaml", Delete: true},
		{Path: "apps", Mode: "120000", SHA: link},
	})
	if err != nil {
		t.Fatalf("create tree: %v", err)
	}
	if got != want {
		t.Errorf("tree %s, want %s (apps a symlink next to keep.yaml)", got, want)
	}
}

// TestCreateTreeReplacesFileWithDirectory is the reverse: the file is
// deleted and files are written below its path.
func TestCreateTreeReplacesFileWithDirectory(t *testing.T) {
	env := newFakeEnv(t, nil)
	blob, err := env.repo.WriteBlob([]byte("web\n"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := env.repo.WriteTree([]fakegithub.TreeEntry{{Name: "apps", Mode: "100644", SHA: blob}})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := env.repo.WriteTree([]fakegithub.TreeEntry{{Name: "web.yaml", Mode: "100644", SHA: blob}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.repo.WriteTree([]fakegithub.TreeEntry{{Name: "apps", Mode: "040000", SHA: apps}})
	if err != nil {
		t.Fatal(err)
	}

	got, err := env.api.CreateTree(context.Background(), base, []revert.Change{
		{Path: "apps", Delete: true},
		{Path: "apps/web.yaml", Mode: "100644", Content: []byte("web\n")},
	})
	if err != nil {
		t.Fatalf("create tree: %v", err)
	}
	if got != want {
		t.Errorf("tree %s, want %s (apps a folder holding web.yaml)", got, want)
	}
}
