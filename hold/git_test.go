package hold

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
)

// TestHoldDiffWithGit asks git what a hold changes: only the held lines,
// and in them only words of the marker replaced by words of the held
// marker; and after Resume git sees no change at all.
func TestHoldDiffWithGit(t *testing.T) {
	repo, err := gitoracle.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := repo.Git(nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	path := filepath.Join(repo.Dir, "file.yaml")
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range markerCases {
		if len(tc.want) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			content := []byte(tc.content)
			write(content)
			if _, err := repo.Commit(name); err != nil {
				t.Fatal(err)
			}
			held, holds := Hold(content, markerLines(content), "d4cc490")
			write(held)

			numstat := strings.Fields(git("diff", "--numstat", "--", "file.yaml"))
			lines := map[int]bool{}
			for _, h := range holds {
				lines[h.Line] = true
			}
			if len(numstat) < 2 || numstat[0] != strconv.Itoa(len(lines)) || numstat[1] != strconv.Itoa(len(lines)) {
				t.Fatalf("git diff --numstat = %v, want %d lines changed", numstat, len(lines))
			}
			for _, l := range strings.Split(git("diff", "--word-diff=porcelain", "--", "file.yaml"), "\n") {
				if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++") || l == "" {
					continue
				}
				// Words are what whitespace separates: a '#' written
				// against the marker comes with it, unchanged.
				word := strings.TrimLeft(strings.TrimSpace(l[1:]), "#")
				switch l[0] {
				case '-':
					if !inAny(word, holds, func(h Held) string { return h.Original }) {
						t.Errorf("git sees %q removed, outside every marker", word)
					}
				case '+':
					if !inAny(word, holds, func(h Held) string { return h.Text }) {
						t.Errorf("git sees %q added, outside every held marker", word)
					}
				}
			}

			back, _ := Resume(held, nil)
			write(back)
			if st := git("status", "--porcelain"); st != "" {
				t.Fatalf("after Resume git status says %q", st)
			}
		})
	}
}

func inAny(word string, holds []Held, text func(Held) string) bool {
	for _, h := range holds {
		if strings.Contains(text(h), word) {
			return true
		}
	}
	return false
}
