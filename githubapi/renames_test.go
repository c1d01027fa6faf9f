package githubapi_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/revert"
)

// commitFiles commits files on main of the fake (nil deletes a path).
func commitFiles(t *testing.T, repo *fakegithub.Repo, message string, files map[string]*fakegithub.File) string {
	t.Helper()
	sha, err := repo.Commit("main", fakegithub.CommitSpec{
		Message: message, Author: fakegithub.Person{Name: "Dev", Email: "dev@example.com"}, Files: files,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func content(s string) *fakegithub.File { return &fakegithub.File{Content: s} }

const appLines = "one\ntwo\nthree\nfour\nfive\n"

func TestRenamedSince(t *testing.T) {
	env := newFakeEnv(t, nil)
	base := commitFiles(t, env.repo, "base", map[string]*fakegithub.File{
		"apps/web.yaml": content(appLines), "apps/api.yaml": content("six\nseven\neight\n"), "keep.yaml": content("kept\n"),
	})
	head := commitFiles(t, env.repo, "head", map[string]*fakegithub.File{
		"apps/web.yaml": nil, "moved/web.yaml": content(appLines), "apps/api.yaml": nil, "new.yaml": content("new\n"),
	})
	before := len(env.gh.Requests())
	renames, complete, err := env.api.RenamedSince(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"apps/web.yaml": "moved/web.yaml"}; !reflect.DeepEqual(renames, want) || !complete {
		t.Errorf("renames %v (complete %v), want %v (complete)", renames, complete, want)
	}
	if n := len(env.gh.Requests()) - before; n != 1 {
		t.Errorf("%d requests, want one compare", n)
	}
}

// TestRenamedSinceIncomplete: GitHub lists at most 300 files of a
// comparison, so a list that long may miss renames.
func TestRenamedSinceIncomplete(t *testing.T) {
	env := newFakeEnv(t, nil)
	base := commitFiles(t, env.repo, "base", map[string]*fakegithub.File{"keep.yaml": content("kept\n")})
	many := map[string]*fakegithub.File{}
	for i := 0; i < 300; i++ {
		many[fmt.Sprintf("apps/f%03d.yaml", i)] = content(fmt.Sprintf("file %d\n", i))
	}
	head := commitFiles(t, env.repo, "many", many)
	_, complete, err := env.api.RenamedSince(context.Background(), base, head)
	if err != nil || complete {
		t.Fatalf("complete %v (%v), want an incomplete answer", complete, err)
	}
	fewer := commitFiles(t, env.repo, "fewer", map[string]*fakegithub.File{"apps/f000.yaml": nil})
	_, complete, err = env.api.RenamedSince(context.Background(), base, fewer)
	if err != nil || !complete {
		t.Fatalf("299 files: complete %v (%v), want complete", complete, err)
	}
}

// TestRevertAsksGitHubAboutRenames: where the branch removed what the
// revert deletes or restores into, the engine tells a rename (git's
// conflict) from a deletion (a clean revert) through the compare API.
func TestRevertAsksGitHubAboutRenames(t *testing.T) {
	cases := map[string]struct {
		parent, commit, head map[string]*fakegithub.File
		conflict             revert.ConflictKind // "" for a clean revert
	}{
		"the branch deleted the added file": {
			commit: map[string]*fakegithub.File{"apps/new.yaml": content(appLines), "apps/other.yaml": content("x\n")},
			head:   map[string]*fakegithub.File{"apps/new.yaml": nil},
		},
		"the branch renamed the added file": {
			commit:   map[string]*fakegithub.File{"apps/new.yaml": content(appLines)},
			head:     map[string]*fakegithub.File{"apps/new.yaml": nil, "apps/renamed.yaml": content(appLines)},
			conflict: revert.ConflictRenameDelete,
		},
		"the branch deleted the restored file's folder": {
			parent: map[string]*fakegithub.File{"apps/a.yaml": content(appLines), "apps/gone.yaml": content("x\ny\nz\n")},
			commit: map[string]*fakegithub.File{"apps/gone.yaml": nil},
			head:   map[string]*fakegithub.File{"apps/a.yaml": nil},
		},
		"the branch renamed the restored file's folder": {
			parent:   map[string]*fakegithub.File{"apps/a.yaml": content(appLines), "apps/gone.yaml": content("x\ny\nz\n")},
			commit:   map[string]*fakegithub.File{"apps/gone.yaml": nil},
			head:     map[string]*fakegithub.File{"apps/a.yaml": nil, "moved/a.yaml": content(appLines)},
			conflict: revert.ConflictFileLocation,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := newFakeEnv(t, nil)
			parentFiles := map[string]*fakegithub.File{"README.md": content("readme\n")}
			for p, f := range c.parent {
				parentFiles[p] = f
			}
			commitFiles(t, env.repo, "parent", parentFiles)
			commit := commitFiles(t, env.repo, "commit", c.commit)
			head := commitFiles(t, env.repo, "head", c.head)
			ctx := context.Background()
			info, err := env.api.Commit(ctx, commit)
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, f := range info.Files {
				paths = append(paths, f.Path)
			}
			before := len(env.gh.Requests())
			res, err := revert.Revert(ctx, env.api, revert.Request{Commit: commit, Parents: info.Parents, Head: head, Paths: paths})
			compares := 0
			for _, r := range env.gh.Requests()[before:] {
				if strings.HasSuffix(r.Route, "/compare/{basehead}") {
					compares++
				}
			}
			if compares != 1 {
				t.Errorf("%d compare requests, want one", compares)
			}
			var ce *revert.ConflictError
			switch {
			case c.conflict == "":
				if err != nil {
					t.Fatalf("want a clean revert, got %v", err)
				}
				// Each clean case has one other change: the other added
				// file deleted, or the file restored.
				if len(res.Changes) != 1 {
					t.Errorf("changes %+v, want one", res.Changes)
				}
			case !errors.As(err, &ce) || len(ce.Files) != 1 || ce.Files[0].Kind != c.conflict || ce.Conservative():
				t.Fatalf("want a certain %s conflict, got %v", c.conflict, err)
			}
		})
	}
}
