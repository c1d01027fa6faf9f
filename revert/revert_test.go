package revert

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
)

type files = map[string]*gitoracle.File

func text(s string) *gitoracle.File { return &gitoracle.File{Content: s} }
func exe(s string) *gitoracle.File  { return &gitoracle.File{Content: s, Mode: "100755"} }
func link(s string) *gitoracle.File { return &gitoracle.File{Content: s, Mode: "120000"} }

// scenario is a small history: the parent commit P, the reverted commit C
// (changes on top of P) and the commits after C up to the head H (each
// one's changes on top of the previous). Without head commits, H is C.
type scenario struct {
	parent files
	commit files
	head   []files
}

// build commits the scenario and returns the repository, C and H.
func (s scenario) build(t *testing.T) (*gitoracle.Repo, gitoracle.Commit, string) {
	t.Helper()
	repo, err := gitoracle.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	base := files{"README.md": text("keeps the root non-empty\n")}
	for p, f := range s.parent {
		base[p] = f
	}
	if _, err := repo.CommitFiles("parent", base); err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitFiles("commit", s.commit)
	if err != nil {
		t.Fatal(err)
	}
	head := c
	for _, fs := range s.head {
		if head, err = repo.CommitFiles("head", fs); err != nil {
			t.Fatal(err)
		}
	}
	info, err := repo.CommitInfo(c)
	if err != nil {
		t.Fatal(err)
	}
	return repo, info, head
}

const lines5 = "one\ntwo\nthree\nfour\nfive\n"

// TestRevertCases covers each kind of outcome on small histories; every
// case is also run through git, which must agree.
func TestRevertCases(t *testing.T) {
	cases := map[string]struct {
		scenario
		want     gitoracle.Outcome
		conflict ConflictKind // with want == Conflict
		// uncertain: the outcome depends on the branch's renames, and a
		// Reader without Renames gets an Uncertain refusal of this kind.
		uncertain ConflictKind
		changes   map[string]string // with want == Clean: path -> "delete", "mode sha", or "mode content:<text>"
	}{
		"modification on an unchanged head": {
			scenario: scenario{parent: files{"app.yaml": text(lines5)}, commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")}},
			want:     gitoracle.Clean,
		},
		"added file is deleted": {
			scenario: scenario{commit: files{"apps/new.yaml": text("new\n")}},
			want:     gitoracle.Clean,
			changes:  map[string]string{"apps/new.yaml": "delete"},
		},
		"deleted file is restored": {
			scenario: scenario{parent: files{"apps/old.yaml": text("old\n")}, commit: files{"apps/old.yaml": nil}},
			want:     gitoracle.Clean,
		},
		"head changed other lines": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("ONE\ntwo\nthree\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("ONE\ntwo\nthree\nfour\nFIVE\n")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"app.yaml": "100644 content:one\ntwo\nthree\nfour\nFIVE\n"},
		},
		"head changed the same line": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("one\ntwo\nthree-and-more\nfour\nfive\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
		"head changed the adjacent line": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("one\ntwo\nTHREE\nFOUR\nfive\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
		"head inserted right after the changed line": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("one\ntwo\nTHREE\ninserted\nfour\nfive\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
		"head changed a line two lines away": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\nTWO\nthree\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("one\nTWO\nthree\nFOUR\nfive\n")}},
			},
			want: gitoracle.Clean,
		},
		"already reverted": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": text(lines5)}},
			},
			want: gitoracle.NothingToCommit,
		},
		"head made the revert's change and more": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": text("one\ntwo\nthree\nfour\nfive\nsix\n")}},
			},
			want: gitoracle.NothingToCommit,
		},
		"head deleted the modified file": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"app.yaml": nil}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictModifyDelete,
			uncertain: ConflictModifyDelete,
		},
		"head modified the added file": {
			scenario: scenario{
				commit: files{"app.yaml": text(lines5)},
				head:   []files{{"app.yaml": text("one\ntwo\nthree\nfour\nfive\nsix\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictModifyDelete,
		},
		"head deleted the added file": {
			scenario: scenario{
				commit: files{"app.yaml": text(lines5), "other.yaml": text("x\n")},
				head:   []files{{"app.yaml": nil}},
			},
			want:      gitoracle.Clean,
			uncertain: ConflictRenameDelete,
		},
		"head renamed the added file": {
			scenario: scenario{
				commit: files{"app.yaml": text(lines5)},
				head:   []files{{"app.yaml": nil, "renamed.yaml": text(lines5)}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictRenameDelete,
			uncertain: ConflictRenameDelete,
		},
		"head renamed the folder of the restored file": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/b.yaml": nil, "moved/a.yaml": text(lines5), "moved/b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head deleted the folder of the restored file": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil}},
			},
			want:      gitoracle.Clean,
			uncertain: ConflictFileLocation,
		},
		"head renamed and edited the added file": {
			scenario: scenario{
				commit: files{"app.yaml": text(lines5 + "six\nseven\n"), "other.yaml": text("x\n")},
				head:   []files{{"app.yaml": nil, "renamed.yaml": text(lines5 + "six\nSEVEN\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictRenameDelete,
			uncertain: ConflictRenameDelete,
		},
		"head moved one file of the restored file's folder and deleted the other": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/b.yaml": nil, "moved/a.yaml": text(lines5)}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head split the restored file's folder in two": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/b.yaml": nil, "one/a.yaml": text(lines5), "two/b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		// git renames only the folders the revert adds files to directly:
		// apps/sub, emptied by the commit, is not one the branch removed.
		"head renamed the folder above the restored file's, which the commit emptied": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/sub/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/sub/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/b.yaml": nil, "moved/a.yaml": text(lines5), "moved/b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Clean,
			uncertain: ConflictFileLocation,
		},
		"head renamed the restored file's folder, whose files are in a subfolder": {
			scenario: scenario{
				parent: files{"apps/web/a.yaml": text(lines5), "apps/web/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/web/a.yaml": nil, "apps/web/b.yaml": nil, "moved/web/a.yaml": text(lines5), "moved/web/b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head renamed the folder above the restored file's": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/sub/b.yaml": text("six\nseven\neight\n"), "apps/sub/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/sub/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/sub/b.yaml": nil, "moved/a.yaml": text(lines5), "moved/sub/b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head moved the restored file's folder to the root": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "apps/b.yaml": nil, "a.yaml": text(lines5), "b.yaml": text("six\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head renamed a parent of the restored file's folder": {
			scenario: scenario{
				parent: files{"infra/base/config/a.yaml": text(lines5), "infra/base/config/gone.yaml": text("x\ny\nz\n")},
				commit: files{"infra/base/config/gone.yaml": nil},
				head:   []files{{"infra/base/config/a.yaml": nil, "infra/other/config/a.yaml": text(lines5)}},
			},
			want:      gitoracle.Conflict,
			conflict:  ConflictFileLocation,
			uncertain: ConflictFileLocation,
		},
		"head moved only a subfolder of the restored file's folder elsewhere": {
			scenario: scenario{
				parent: files{"apps/web/a.yaml": text(lines5), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/web/a.yaml": nil, "x/y/a.yaml": text(lines5)}},
			},
			want:      gitoracle.Clean,
			uncertain: ConflictFileLocation,
		},
		"head renamed a file out of the restored file's folder, which it keeps": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines5), "apps/b.yaml": text("six\nseven\neight\n"), "apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"apps/a.yaml": nil, "moved/a.yaml": text(lines5)}},
			},
			want: gitoracle.Clean,
		},
		"restored file whose folder the commit emptied": {
			scenario: scenario{
				parent: files{"apps/gone.yaml": text("x\ny\nz\n")},
				commit: files{"apps/gone.yaml": nil},
				head:   []files{{"other.yaml": text("o\n")}},
			},
			want: gitoracle.Clean,
		},
		"head re-created the deleted file differently": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": nil},
				head:   []files{{"app.yaml": text("something else\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictAddAdd,
		},
		"head re-created the deleted file identically": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": nil},
				head:   []files{{"app.yaml": text(lines5)}},
			},
			want: gitoracle.NothingToCommit,
		},
		"head re-created the deleted file as executable": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": nil},
				head:   []files{{"app.yaml": exe(lines5)}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictMode,
		},
		"head re-created the deleted file empty": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines5)},
				commit: files{"app.yaml": nil},
				head:   []files{{"app.yaml": text("")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"app.yaml": "100644 sha"}, // the parent's blob
		},
		"executable bit is reverted": {
			scenario: scenario{parent: files{"run.sh": text("echo\n")}, commit: files{"run.sh": exe("echo\n")}},
			want:     gitoracle.Clean,
		},
		"executable bit is reverted under a content change": {
			scenario: scenario{
				parent: files{"run.sh": text("echo\n")},
				commit: files{"run.sh": exe("echo\n")},
				head:   []files{{"run.sh": exe("echo hi\n")}},
			},
			want: gitoracle.Clean,
		},
		"content is reverted under a mode change": {
			scenario: scenario{
				parent: files{"run.sh": text(lines5)},
				commit: files{"run.sh": text("one\ntwo\nTHREE\nfour\nfive\n")},
				head:   []files{{"run.sh": exe("one\ntwo\nTHREE\nfour\nfive\n")}},
			},
			want: gitoracle.Clean,
		},
		"symlink retarget is reverted": {
			scenario: scenario{parent: files{"current": link("v1")}, commit: files{"current": link("v2")}},
			want:     gitoracle.Clean,
		},
		"symlink retargeted on both sides": {
			scenario: scenario{
				parent: files{"current": link("v1")},
				commit: files{"current": link("v2")},
				head:   []files{{"current": link("v3")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictSymlink,
		},
		"symlink the head turned into a file": {
			scenario: scenario{
				parent: files{"current": link("v1")},
				commit: files{"current": link("v2")},
				head:   []files{{"current": text("v3\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictMode,
		},
		"file turned into a symlink is restored": {
			scenario: scenario{parent: files{"current": text("v1\n")}, commit: files{"current": link("v1")}},
			want:     gitoracle.Clean,
		},
		"binary change is reverted": {
			scenario: scenario{parent: files{"logo.bin": text("a\x00b\n")}, commit: files{"logo.bin": text("a\x00c\n")}},
			want:     gitoracle.Clean,
		},
		"binary changed on both sides": {
			scenario: scenario{
				parent: files{"logo.bin": text("a\x00b\nx\ny\nz\n")},
				commit: files{"logo.bin": text("a\x00c\nx\ny\nz\n")},
				head:   []files{{"logo.bin": text("a\x00c\nx\ny\nZ\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictBinary,
		},
		"head put a directory where the deleted file was": {
			scenario: scenario{
				parent: files{"conf": text("x\n")},
				commit: files{"conf": nil},
				head:   []files{{"conf/app.yaml": text("y\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictFileDirectory,
		},
		"head put a file where the deleted file's directory was": {
			scenario: scenario{
				parent: files{"conf/app.yaml": text("x\n")},
				commit: files{"conf/app.yaml": nil},
				head:   []files{{"conf": text("y\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictFileDirectory,
		},
		"file replaced by a directory is restored": {
			scenario: scenario{
				parent: files{"conf": text("x\n")},
				commit: files{"conf": nil, "conf/app.yaml": text("y\n")},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"conf/app.yaml": "delete", "conf": "100644 sha"},
		},
		"directory replaced by a file is restored": {
			scenario: scenario{
				parent: files{"conf/app.yaml": text("x\n")},
				commit: files{"conf/app.yaml": nil, "conf": text("y\n")},
			},
			want: gitoracle.Clean,
		},
		"file replaced by a directory the head added to": {
			scenario: scenario{
				parent: files{"conf": text("x\n")},
				commit: files{"conf": nil, "conf/app.yaml": text("y\n")},
				head:   []files{{"conf/more.yaml": text("z\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictFileDirectory,
		},
		"crlf lines": {
			scenario: scenario{
				parent: files{"win.txt": text("a\r\nb\r\nc\r\nd\r\ne\r\n")},
				commit: files{"win.txt": text("A\r\nb\r\nc\r\nd\r\ne\r\n")},
				head:   []files{{"win.txt": text("A\r\nb\r\nc\r\nd\r\nE\r\n")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"win.txt": "100644 content:a\r\nb\r\nc\r\nd\r\nE\r\n"},
		},
		"line ending change conflicts with an edit": {
			scenario: scenario{
				parent: files{"win.txt": text("a\r\nb\r\nc\r\n")},
				commit: files{"win.txt": text("a\nb\nc\n")},
				head:   []files{{"win.txt": text("a\nB\nc\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
		"missing newline at end of file": {
			scenario: scenario{
				parent: files{"app.yaml": text("one\ntwo\nthree\nfour\nfive")},
				commit: files{"app.yaml": text("ONE\ntwo\nthree\nfour\nfive")},
				head:   []files{{"app.yaml": text("ONE\ntwo\nthree\nfour\nfive\n")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"app.yaml": "100644 content:one\ntwo\nthree\nfour\nfive\n"},
		},
		"newline added at end of file, head appended": {
			scenario: scenario{
				parent: files{"app.yaml": text("one\ntwo")},
				commit: files{"app.yaml": text("one\ntwo\n")},
				head:   []files{{"app.yaml": text("one\ntwo\nthree\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
		"several files, one conflicting": {
			scenario: scenario{
				parent: files{"a/app.yaml": text(lines5), "b/app.yaml": text(lines5)},
				commit: files{"a/app.yaml": text("ONE\ntwo\nthree\nfour\nfive\n"), "b/app.yaml": text("ONE\ntwo\nthree\nfour\nfive\n")},
				head:   []files{{"b/app.yaml": text("uno\ntwo\nthree\nfour\nfive\n")}},
			},
			want:     gitoracle.Conflict,
			conflict: ConflictContent,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo, commit, head := c.build(t)
			outcome, res, err := checkAgainstGit(t, repo, commit, head)
			if outcome != c.want {
				t.Fatalf("git's outcome is %v, the case expects %v (engine: %+v, %v)", outcome, c.want, res, err)
			}
			req := Request{Commit: commit.SHA, Parents: commit.Parents, Head: head, Paths: commit.Paths}
			counting := &countingReader{Reader: repoReader{repo}}
			if _, err := Revert(context.Background(), counting, req); c.uncertain == "" && counting.renames != 0 {
				t.Fatalf("the engine asked for the renames (answer %v) where its outcome does not depend on them", err)
			} else if c.uncertain != "" && (counting.renames == 0 || counting.repeatedRenames()) {
				t.Fatalf("the engine asked for the renames %v, want once for each side that matters", counting.pairs)
			}
			if c.uncertain != "" {
				_, err := Revert(context.Background(), withoutRenames{repoReader{repo}}, req)
				var ce *ConflictError
				if !errors.As(err, &ce) || len(ce.Files) != 1 || ce.Files[0].Kind != c.uncertain || !ce.Files[0].Uncertain || !ce.Conservative() {
					t.Fatalf("without the renames, want an uncertain %s refusal, got %v", c.uncertain, err)
				}
			}
			var ce *ConflictError
			if errors.As(err, &ce) && ce.Conservative() {
				t.Fatalf("an uncertain refusal %v though git told the renames", ce)
			}
			switch {
			case c.want == gitoracle.Conflict:
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Fatalf("want a conflict, got %v", err)
				}
				var kinds []ConflictKind
				for _, f := range ce.Files {
					kinds = append(kinds, f.Kind)
				}
				if len(kinds) != 1 || kinds[0] != c.conflict {
					t.Fatalf("conflict kinds %v, want [%s]", kinds, c.conflict)
				}
			case c.want == gitoracle.Clean:
				if c.changes != nil {
					checkChanges(t, res.Changes, c.changes)
				}
			}
		})
	}
}

func checkChanges(t *testing.T, got []Change, want map[string]string) {
	t.Helper()
	have := make(map[string]string)
	for _, ch := range got {
		switch {
		case ch.Delete:
			have[ch.Path] = "delete"
		case ch.Content != nil:
			have[ch.Path] = ch.Mode + " content:" + string(ch.Content)
		case ch.SHA != "":
			have[ch.Path] = ch.Mode + " sha"
		default:
			have[ch.Path] = ch.Mode + " neither sha nor content"
		}
	}
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("changes %q, want %q", have, want)
	}
	// Deletions come first so that applying in order never meets a
	// file/directory clash.
	seenWrite := false
	for _, ch := range got {
		if !ch.Delete {
			seenWrite = true
		} else if seenWrite {
			t.Fatalf("deletion of %s after a write: %+v", ch.Path, got)
		}
	}
}

func TestConflictHunks(t *testing.T) {
	repo, commit, head := scenario{
		parent: files{"app.yaml": text("image: app:1.0\nreplicas: 1\nport: 80\nname: app\nteam: a\n")},
		commit: files{"app.yaml": text("image: app:1.1\nreplicas: 1\nport: 80\nname: app\nteam: a\n")},
		head:   []files{{"app.yaml": text("image: app:1.2\nreplicas: 1\nport: 80\nname: app\nteam: b\n")}},
	}.build(t)
	_, _, err := checkAgainstGit(t, repo, commit, head)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v", err)
	}
	want := []FileConflict{{
		Path: "app.yaml",
		Kind: ConflictContent,
		Hunks: []ConflictHunk{{
			Base:   LineRange{Start: 1, Lines: []string{"image: app:1.1\n"}},
			Head:   LineRange{Start: 1, Lines: []string{"image: app:1.2\n"}},
			Parent: LineRange{Start: 1, Lines: []string{"image: app:1.0\n"}},
		}},
	}}
	if !reflect.DeepEqual(ce.Files, want) {
		t.Fatalf("conflicts %+v, want %+v", ce.Files, want)
	}
	if msg := ce.Error(); !strings.Contains(msg, "app.yaml (content)") {
		t.Fatalf("error %q does not name the file and kind", msg)
	}
}

// TestReadsStayOnChangedPaths checks that the engine lists only the
// directories holding the changed paths, each once per commit (a listed
// directory proves its ancestors are directories), and reads only the blobs
// of the file that needs a line merge.
func TestReadsStayOnChangedPaths(t *testing.T) {
	untouched := files{}
	for _, p := range []string{"docs/guide.md", "apps/web/other.yaml", "apps/api/svc.yaml", "infra/x/y/z.yaml"} {
		untouched[p] = text("untouched " + p + "\n")
	}
	parent := files{"apps/web/deploy.yaml": text(lines5), "infra/kustomization.yaml": text("a\nb\nc\nd\n")}
	for p, f := range untouched {
		parent[p] = f
	}
	repo, commit, head := scenario{
		parent: parent,
		commit: files{
			"apps/web/deploy.yaml":     text("one\nTWO\nthree\nfour\nfive\n"),
			"infra/kustomization.yaml": text("a\nB\nc\nd\n"),
		},
		head: []files{{"apps/web/deploy.yaml": text("one\nTWO\nthree\nfour\nFIVE\n")}},
	}.build(t)
	reader := &countingReader{Reader: repoReader{repo}}
	outcome, res, err := checkAgainstGitWith(t, repo, reader, commit, head, caseInfo{}, repo.Revert)
	if outcome != gitoracle.Clean || err != nil {
		t.Fatalf("outcome %v, error %v", outcome, err)
	}

	var wantDirs []string
	for _, c := range []string{commit.SHA, commit.Parents[0], head} {
		for _, d := range []string{"apps/web", "infra"} {
			wantDirs = append(wantDirs, c+":"+d)
		}
	}
	sort.Strings(wantDirs)
	sort.Strings(reader.dirs)
	if !reflect.DeepEqual(reader.dirs, wantDirs) {
		t.Fatalf("listed %q, want %q", reader.dirs, wantDirs)
	}

	// Only deploy.yaml changed on both sides: its three versions are read.
	var wantBlobs []string
	for _, c := range []string{commit.SHA, commit.Parents[0], head} {
		entries, err := repo.ReadDir(c, "apps/web")
		if err != nil {
			t.Fatal(err)
		}
		wantBlobs = append(wantBlobs, entries["deploy.yaml"].SHA)
	}
	sort.Strings(wantBlobs)
	sort.Strings(reader.blobs)
	if !reflect.DeepEqual(reader.blobs, wantBlobs) {
		t.Fatalf("read blobs %q, want %q", reader.blobs, wantBlobs)
	}
	checkChanges(t, res.Changes, map[string]string{
		"apps/web/deploy.yaml":     "100644 content:" + "one\ntwo\nthree\nfour\nFIVE\n",
		"infra/kustomization.yaml": "100644 sha",
	})
}

// TestNoBlobReadsWithoutMerges: when the head has not touched the
// reverted files, the revert reuses the parent's blobs and reads none.
func TestNoBlobReadsWithoutMerges(t *testing.T) {
	repo, commit, head := scenario{
		parent: files{"apps/web/deploy.yaml": text(lines5), "run.sh": text("echo\n"), "current": link("v1")},
		commit: files{"apps/web/deploy.yaml": text("one\nTWO\nthree\nfour\nfive\n"), "run.sh": exe("echo\n"), "current": link("v2"), "new.yaml": text("new\n")},
		head:   []files{{"unrelated.yaml": text("u\n")}},
	}.build(t)
	reader := &countingReader{Reader: repoReader{repo}}
	outcome, _, err := checkAgainstGitWith(t, repo, reader, commit, head, caseInfo{}, repo.Revert)
	if outcome != gitoracle.Clean || err != nil {
		t.Fatalf("outcome %v, error %v", outcome, err)
	}
	if len(reader.blobs) != 0 {
		t.Fatalf("read blobs %q, want none", reader.blobs)
	}
	if len(reader.dirs) != 6 { // "" and apps/web in three commits
		t.Fatalf("listed %d directories, want 6: %q", len(reader.dirs), reader.dirs)
	}
}

// memReader is an in-memory Reader: commit -> directory -> entries.
type memReader struct {
	dirs    map[string]map[string]map[string]Entry
	blobs   map[string][]byte
	dirErr  error
	blobErr error
}

func (m memReader) Dir(_ context.Context, commit, dir string) (map[string]Entry, error) {
	if m.dirErr != nil {
		return nil, m.dirErr
	}
	if d, ok := m.dirs[commit][dir]; ok {
		return d, nil
	}
	return map[string]Entry{}, nil
}

func (m memReader) Blob(_ context.Context, sha string) ([]byte, error) {
	if m.blobErr != nil {
		return nil, m.blobErr
	}
	return m.blobs[sha], nil
}

func TestRefusals(t *testing.T) {
	errRead := errors.New("connection reset")
	root := func(entries map[string]Entry) map[string]map[string]Entry {
		return map[string]map[string]Entry{"": entries}
	}
	file := func(sha string) Entry { return Entry{Mode: modeFile, SHA: sha} }
	cases := map[string]struct {
		reader      memReader
		req         Request
		unsupported bool
		is          error
		contains    string
	}{
		"merge commit": {
			req:         Request{Commit: "c", Parents: []string{"p1", "p2"}, Head: "h", Paths: []string{"a"}},
			unsupported: true,
			contains:    "merge commit with 2 parents",
		},
		"root commit": {
			req:         Request{Commit: "c", Head: "h", Paths: []string{"a"}},
			unsupported: true,
			contains:    "root commit",
		},
		"submodule change": {
			reader: memReader{dirs: map[string]map[string]map[string]Entry{
				"c": root(map[string]Entry{"vendor": {Mode: modeGitlink, SHA: "s2"}}),
				"p": root(map[string]Entry{"vendor": {Mode: modeGitlink, SHA: "s1"}}),
				"h": root(map[string]Entry{"vendor": {Mode: modeGitlink, SHA: "s2"}}),
			}},
			req:         Request{Commit: "c", Parents: []string{"p"}, Head: "h", Paths: []string{"vendor"}},
			unsupported: true,
			contains:    "submodule",
		},
		"empty commit": {
			req: Request{Commit: "c", Parents: []string{"p"}, Head: "h"},
			is:  ErrNothingToRevert,
		},
		"invalid path": {
			req:      Request{Commit: "c", Parents: []string{"p"}, Head: "h", Paths: []string{"a/../b"}},
			contains: `invalid path "a/../b"`,
		},
		"directory read fails": {
			reader:   memReader{dirErr: errRead},
			req:      Request{Commit: "c", Parents: []string{"p"}, Head: "h", Paths: []string{"a"}},
			is:       errRead,
			contains: `list directory ""`,
		},
		"blob read fails": {
			reader: memReader{
				dirs: map[string]map[string]map[string]Entry{
					"c": root(map[string]Entry{"a": file("b2")}),
					"p": root(map[string]Entry{"a": file("b1")}),
					"h": root(map[string]Entry{"a": file("b3")}),
				},
				blobErr: errRead,
			},
			req:      Request{Commit: "c", Parents: []string{"p"}, Head: "h", Paths: []string{"a"}},
			is:       errRead,
			contains: "read blob",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Revert(context.Background(), c.reader, c.req)
			if err == nil {
				t.Fatalf("want an error, got %+v", res)
			}
			var ue *UnsupportedError
			if c.unsupported != errors.As(err, &ue) {
				t.Fatalf("error %v (%T): unsupported is %v, want %v", err, err, !c.unsupported, c.unsupported)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("error %q does not contain %q", err, c.contains)
			}
		})
	}
}

const lines8 = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n"

// TestRevertFollowsRenames covers the renames git's merge follows, on
// either side: the branch renamed a file the revert changes, or the
// reverted commit renamed a file (so that the revert renames it back) that
// the branch changed since. Every case is also run through git, which must
// agree.
func TestRevertFollowsRenames(t *testing.T) {
	cases := map[string]struct {
		scenario
		want      gitoracle.Outcome
		conflicts map[string]ConflictKind // with want == Conflict: path -> kind
		changes   map[string]string       // with want == Clean, as in TestRevertCases
		// uncertain: without Renames, the engine refuses with only
		// Uncertain conflicts.
		uncertain bool
	}{
		"branch renamed the file": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines8)},
				commit: files{"app.yaml": text("one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"app.yaml": nil, "renamed.yaml": text("one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"renamed.yaml": "100644 sha"},
			uncertain: true,
		},
		"branch renamed and edited the file": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines8)},
				commit: files{"app.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"app.yaml": nil, "apps/renamed.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nSEVEN\neight\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"apps/renamed.yaml": "100644 content:one\ntwo\nthree\nfour\nfive\nsix\nSEVEN\neight\n"},
			uncertain: true,
		},
		"branch renamed the file and made it executable": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines8)},
				commit: files{"app.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"app.yaml": nil, "renamed.yaml": exe("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"renamed.yaml": "100755 sha"},
			uncertain: true,
		},
		"branch renamed the file and changed the same line": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines8)},
				commit: files{"app.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"app.yaml": nil, "renamed.yaml": text("one\nzwei\nthree\nfour\nfive\nsix\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"renamed.yaml": ConflictContent},
			uncertain: true,
		},
		"branch renamed the file's folder": {
			scenario: scenario{
				parent: files{"apps/a.yaml": text(lines8), "apps/b.yaml": text("b\nc\nd\n")},
				commit: files{"apps/a.yaml": text("one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n")},
				head: []files{{
					"apps/a.yaml": nil, "apps/b.yaml": nil,
					"moved/a.yaml": text("one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n"), "moved/b.yaml": text("b\nc\nd\n"),
				}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"moved/a.yaml": "100644 sha"},
			uncertain: true,
		},
		"branch renamed the file to a name the revert restores": {
			scenario: scenario{
				parent: files{"app.yaml": text(lines8), "gone.yaml": text("other\ncontent\nentirely\n")},
				commit: files{"app.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n"), "gone.yaml": nil},
				head:   []files{{"app.yaml": nil, "gone.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"app.yaml": ConflictRenameAdd, "gone.yaml": ConflictAddAdd},
		},
		"the revert renames back a file the branch edited": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "new.yaml": text(lines8)},
				head:   []files{{"new.yaml": text("one\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"new.yaml": "delete", "old.yaml": "100644 sha"},
			uncertain: true,
		},
		"the revert renames back and undoes an edit, the branch edited other lines": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "new.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"new.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\nEIGHT\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"new.yaml": "delete", "old.yaml": "100644 content:one\ntwo\nthree\nfour\nfive\nsix\nseven\nEIGHT\n"},
			uncertain: true,
		},
		"the revert renames back a file the branch deleted": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8), "other.yaml": text("x\n")},
				commit: files{"old.yaml": nil, "new.yaml": text(lines8)},
				head:   []files{{"new.yaml": nil}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"new.yaml": ConflictRenameDelete},
			uncertain: true,
		},
		"the revert renames back onto a name the branch has added since": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "new.yaml": text(lines8)},
				head:   []files{{"new.yaml": text("one\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\n"), "old.yaml": text("fresh\nfile\n")}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"new.yaml": ConflictRenameAdd, "old.yaml": ConflictAddAdd},
		},
		"the revert renames back out of a folder the branch added to": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "apps/new.yaml": text(lines8)},
				head:   []files{{"apps/added.yaml": text("added\nby the branch\n")}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"apps/added.yaml": ConflictFileLocation},
			uncertain: true,
		},
		"the revert removes a folder the branch added to, renaming nothing": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "apps/new.yaml": text("fresh\ncontent\n")},
				head:   []files{{"apps/added.yaml": text("added\nby the branch\n")}},
			},
			want:      gitoracle.Clean,
			changes:   map[string]string{"apps/new.yaml": "delete", "old.yaml": "100644 sha"},
			uncertain: true,
		},
		"the revert renames back a file over the folder it was moved into": {
			scenario: scenario{
				parent: files{"conf": text(lines8)},
				commit: files{"conf": nil, "conf/web/app.yaml": text(lines8)},
				head:   []files{{"conf/web/app.yaml": text("one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\n")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"conf/web/app.yaml": "delete", "conf": "100644 sha"},
			// Without the renames, the folder stays and the file restored
			// over it reads as a file/directory conflict.
			uncertain: false,
		},
		"both renamed the file, to different names": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "new.yaml": text(lines8)},
				head:   []files{{"new.yaml": nil, "other.yaml": text(lines8)}},
			},
			want:      gitoracle.Conflict,
			conflicts: map[string]ConflictKind{"new.yaml": ConflictRenameRename},
			uncertain: true,
		},
		"both renamed the file, to the same name": {
			scenario: scenario{
				parent: files{"old.yaml": text(lines8)},
				commit: files{"old.yaml": nil, "new.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n")},
				head:   []files{{"new.yaml": nil, "old.yaml": text("one\nTWO\nthree\nfour\nfive\nsix\nseven\nEIGHT\n")}},
			},
			want:    gitoracle.Clean,
			changes: map[string]string{"old.yaml": "100644 content:one\ntwo\nthree\nfour\nfive\nsix\nseven\nEIGHT\n"},
			// Without the renames the two new files read as an add/add
			// conflict, which the engine does not mark Uncertain.
			uncertain: false,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo, commit, head := c.build(t)
			outcome, res, err := checkAgainstGit(t, repo, commit, head)
			if outcome != c.want {
				t.Fatalf("git's outcome is %v, the case expects %v (engine: %+v, %v)", outcome, c.want, res, err)
			}
			// With the commit's blobs known, as from GitHub's commit API.
			checkAgainstGitWith(t, repo, repoReader{repo}, commit, head, caseInfo{known: true}, repo.Revert)

			switch c.want {
			case gitoracle.Conflict:
				var ce *ConflictError
				if !errors.As(err, &ce) || ce.Conservative() {
					t.Fatalf("want a certain conflict, got %v", err)
				}
				got := make(map[string]ConflictKind)
				for _, f := range ce.Files {
					got[f.Path] = f.Kind
				}
				if !reflect.DeepEqual(got, c.conflicts) {
					t.Fatalf("conflicts %v, want %v", got, c.conflicts)
				}
			case gitoracle.Clean:
				checkChanges(t, res.Changes, c.changes)
			}

			req := Request{Commit: commit.SHA, Parents: commit.Parents, Head: head, Paths: commit.Paths}
			counting := &countingReader{Reader: repoReader{repo}}
			if _, err := Revert(context.Background(), counting, req); err != nil && !errors.As(err, new(*ConflictError)) {
				t.Fatal(err)
			}
			if counting.renames == 0 || counting.repeatedRenames() {
				t.Fatalf("the engine asked for the renames %v, want once for each side that matters", counting.pairs)
			}
			_, err = Revert(context.Background(), withoutRenames{repoReader{repo}}, req)
			var ce *ConflictError
			if uncertain := errors.As(err, &ce) && ce.Conservative(); uncertain != c.uncertain {
				t.Fatalf("without the renames: %v, want only uncertain conflicts: %v", err, c.uncertain)
			}
		})
	}
}
