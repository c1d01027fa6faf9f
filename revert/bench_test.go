package revert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
)

// memoReader remembers what it read, so that benchmarks measure the engine
// rather than git.
type memoReader struct {
	Reader
	mu    sync.Mutex
	dirs  map[string]map[string]Entry
	blobs map[string][]byte
}

func (m *memoReader) Dir(ctx context.Context, commit, dir string) (map[string]Entry, error) {
	m.mu.Lock()
	d, ok := m.dirs[commit+":"+dir]
	m.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := m.Reader.Dir(ctx, commit, dir)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.dirs[commit+":"+dir] = d
	m.mu.Unlock()
	return d, nil
}

func (m *memoReader) Blob(ctx context.Context, sha string) ([]byte, error) {
	m.mu.Lock()
	b, ok := m.blobs[sha]
	m.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := m.Reader.Blob(ctx, sha)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.blobs[sha] = b
	m.mu.Unlock()
	return b, nil
}

// BenchmarkRevert times the engine on pairs of a generated history, with
// every read served from memory.
func BenchmarkRevert(b *testing.B) {
	h, err := gitoracle.Generate(filepath.Join(b.TempDir(), "repo"), gitoracle.Options{Seed: 1, Commits: 80})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	reader := &memoReader{Reader: repoReader{h.Repo}, dirs: map[string]map[string]Entry{}, blobs: map[string][]byte{}}
	rng := rand.New(rand.NewSource(1))
	var reqs []Request
	for len(reqs) < 50 {
		i := 1 + rng.Intn(len(h.Commits)-1)
		j := i + rng.Intn(len(h.Commits)-i)
		c := h.Commits[i]
		reqs = append(reqs, Request{Commit: c.SHA, Parents: c.Parents, Head: h.Commits[j].SHA, Paths: c.Paths})
	}
	ctx := context.Background()
	for _, req := range reqs { // warm the reader
		Revert(ctx, reader, req)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if _, err := Revert(ctx, reader, reqs[n%len(reqs)]); err != nil && !errors.Is(err, ErrNothingToRevert) {
			var ce *ConflictError
			if !errors.As(err, &ce) {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMerge3 times a line merge of a 5000-line file changed in a few
// places on both sides.
func BenchmarkMerge3(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	var base bytes.Buffer
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&base, "  key-%d: value-%d\n", rng.Intn(800), i)
	}
	edit := func(from int) []byte {
		lines := splitLines(base.Bytes())
		for k := from; k < len(lines); k += 500 {
			lines[k] = []byte(fmt.Sprintf("  edited-%d\n", k))
		}
		return bytes.Join(lines, nil)
	}
	ours, theirs := edit(10), edit(260)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if out := merge3(base.Bytes(), ours, theirs, algorithmHistogram, levelZealous); out.nConfl != 0 {
			b.Fatal("unexpected conflict")
		}
	}
}

// FuzzMergeMatchesGitMergeFile compares the line merge with `git
// merge-file` (Myers diff, "zealous alnum" level) on arbitrary inputs. The
// seed corpus runs with go test; go test -fuzz explores further.
func FuzzMergeMatchesGitMergeFile(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n", "a\nb\nC\n")
	f.Add("a\nb\nc\n", "a\nB\nc\n", "a\nb2\nc\n")
	f.Add("x\r\ny\r\n", "x\ny\r\n", "x\r\ny\r\nz")
	f.Add("", "a\n", "a\n")
	f.Add("1\n2\n3\n4\n5\n6\n", "1\nX\n3\n4\n5\n6\n", "1\n2\n3\n4\nY\n6\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, base, ours, theirs string) {
		if len(base)+len(ours)+len(theirs) > 4000 || bytes.ContainsRune([]byte(base+ours+theirs), 0) {
			t.Skip("binary or too large")
		}
		for name, data := range map[string]string{"base": base, "ours": ours, "theirs": theirs} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := gitCmd(t, dir, "merge-file", "-p", "ours", "base", "theirs").Output()
		want := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			want = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		got := merge3([]byte(base), []byte(ours), []byte(theirs), algorithmMyers, levelZealousAlnum)
		if got.nConfl != want || (want == 0 && !bytes.Equal(got.clean, out)) {
			t.Fatalf("merge of base %q, ours %q, theirs %q: %d conflicts %q; git %d conflicts %q",
				base, ours, theirs, got.nConfl, got.clean, want, out)
		}
	})
}
