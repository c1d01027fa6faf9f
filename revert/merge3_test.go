package revert

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// gitCmd runs git with no user or system configuration, so that settings
// such as merge.conflictStyle or diff.algorithm cannot change its answer.
func gitCmd(t testing.TB, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+dir, "LC_ALL=C")
	return cmd
}

// randomText makes a file of lines drawn from a small alphabet, so that
// repeated lines (the hard case for diff algorithms) are common.
func randomText(rng *rand.Rand, n int, alphabet []string) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[rng.Intn(len(alphabet))])
	}
	if n > 0 && rng.Intn(8) == 0 {
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	return b.Bytes()
}

// mutate edits some lines of text: replacements, insertions, deletions.
func mutate(rng *rand.Rand, text []byte, alphabet []string) []byte {
	lines := splitLines(text)
	out := make([][]byte, 0, len(lines)+4)
	for _, l := range lines {
		switch rng.Intn(10) {
		case 0: // delete
		case 1: // replace
			out = append(out, []byte(alphabet[rng.Intn(len(alphabet))]))
		case 2: // insert before
			out = append(out, []byte(alphabet[rng.Intn(len(alphabet))]), l)
		default:
			out = append(out, l)
		}
	}
	if rng.Intn(4) == 0 {
		out = append(out, []byte(alphabet[rng.Intn(len(alphabet))]))
	}
	var b bytes.Buffer
	for i, l := range out {
		if i < len(out)-1 && !bytes.HasSuffix(l, []byte("\n")) {
			b.Write(l)
			b.WriteByte('\n')
			continue
		}
		b.Write(l)
	}
	return b.Bytes()
}

var alphabets = [][]string{
	{"a\n", "b\n", "c\n"},
	{"a\n", "b\n", "c\n", "d\n", "e\n", "f\n", "g\n", "\n", "}\n"},
	{"x\r\n", "x\n", "y\n", "y\r\n", "---\n", "  image: app:1.0\n", "  image: app:1.1\n"},
}

// TestDiffMatchesGitDiff checks the diff algorithms and change compaction
// hunk by hunk against `git diff --no-index -U0`.
func TestDiffMatchesGitDiff(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	hunkRE := regexp.MustCompile(`(?m)^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)
	algs := map[string]diffAlgorithm{"--histogram": algorithmHistogram, "--diff-algorithm=myers": algorithmMyers}
	// Two lines repeated hundreds of times push the histogram algorithm
	// onto its classic fallback; large unrelated files push Myers past
	// its cost cut-offs.
	twoLines := []string{"a\n", "b\n"}
	var wide []string
	for k := 0; k < 60; k++ {
		wide = append(wide, fmt.Sprintf("line %d\n", k))
	}
	for i := 0; i < 160; i++ {
		alphabet := alphabets[i%len(alphabets)]
		a := randomText(rng, rng.Intn(40)+(i%3)*rng.Intn(150), alphabet)
		b := mutate(rng, a, alphabet)
		switch {
		case i >= 155:
			a, b = randomText(rng, 3000, wide), randomText(rng, 3000, wide)
		case i >= 150:
			a = randomText(rng, 150+rng.Intn(150), twoLines)
			b = mutate(rng, a, twoLines)
		case i%5 == 0:
			b = randomText(rng, rng.Intn(40), alphabet)
		}
		pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := os.WriteFile(pa, a, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pb, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for flag, alg := range algs {
			out, err := gitCmd(t, dir, "diff", "--no-index", "--no-indent-heuristic", "-U0", "--text", flag, "a", "b").Output()
			var exit *exec.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
				t.Fatalf("git diff: %v", err)
			}
			var want []edit
			for _, m := range hunkRE.FindAllStringSubmatch(string(out), -1) {
				num := func(s string, def int) int {
					if s == "" {
						return def
					}
					n, _ := strconv.Atoi(s)
					return n
				}
				s1, c1, s2, c2 := num(m[1], 0), num(m[2], 1), num(m[3], 0), num(m[4], 1)
				if c1 > 0 {
					s1--
				}
				if c2 > 0 {
					s2--
				}
				want = append(want, edit{i1: s1, chg1: c1, i2: s2, chg2: c2})
			}
			in := newMergeInput(a, b, nil)
			got := diffIDs(alg, in.baseIDs, in.oursIDs)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("case %d %s: got %v, git %v\na=%q\nb=%q", i, flag, got, want, a, b)
			}
		}
	}
}

// TestMergeMatchesGitMergeFile checks the three-way merge against
// `git merge-file`, which runs the same xdiff merge with Myers diff at the
// "zealous alnum" level: the number of conflicts and, when there are none,
// the merged bytes must be git's.
func TestMergeMatchesGitMergeFile(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(2))
	conflicts := 0
	for i := 0; i < 300; i++ {
		alphabet := alphabets[i%len(alphabets)]
		base := randomText(rng, rng.Intn(30), alphabet)
		ours, theirs := mutate(rng, base, alphabet), mutate(rng, base, alphabet)
		if i%7 == 0 {
			theirs = ours
		}
		files := map[string][]byte{"base": base, "ours": ours, "theirs": theirs}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := gitCmd(t, dir, "merge-file", "-p", "ours", "base", "theirs").Output()
		wantConflicts := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			wantConflicts = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("git merge-file: %v", err)
		}
		got := merge3(base, ours, theirs, algorithmMyers, levelZealousAlnum)
		if got.nConfl != wantConflicts {
			t.Fatalf("case %d: %d conflicts, git %d\nbase=%q\nours=%q\ntheirs=%q\ngit:\n%s", i, got.nConfl, wantConflicts, base, ours, theirs, out)
		}
		if wantConflicts == 0 && !bytes.Equal(got.clean, out) {
			t.Fatalf("case %d: merged %q, git %q\nbase=%q\nours=%q\ntheirs=%q", i, got.clean, out, base, ours, theirs)
		}
		if wantConflicts > 0 {
			conflicts++
			if len(got.hunks) == 0 {
				t.Fatalf("case %d: conflicts without hunks", i)
			}
		}
	}
	if conflicts == 0 || conflicts == 300 {
		t.Fatalf("%d of 300 merges conflicted: the inputs do not exercise both outcomes", conflicts)
	}
	t.Logf("%d of 300 merges conflicted", conflicts)
}

func TestSplitLines(t *testing.T) {
	cases := map[string]struct {
		in   string
		want []string
	}{
		"empty":        {"", nil},
		"one line":     {"a\n", []string{"a\n"}},
		"no final nl":  {"a\nb", []string{"a\n", "b"}},
		"crlf":         {"a\r\nb\r\n", []string{"a\r\n", "b\r\n"}},
		"blank lines":  {"\n\n", []string{"\n", "\n"}},
		"only partial": {"x", []string{"x"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, l := range splitLines([]byte(c.in)) {
				got = append(got, string(l))
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Fatalf("splitLines(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
