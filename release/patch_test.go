package release

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParsePatch(t *testing.T) {
	cases := map[string]struct {
		patch string
		want  []hunk
		err   string
	}{
		"empty": {patch: "", want: nil},
		"one hunk with section and counts": {
			patch: "@@ -3,3 +3,3 @@ spec:\n a\n-b\n+c\n d",
			want: []hunk{{OldStart: 3, OldLines: 3, NewStart: 3, NewLines: 3, Section: " spec:", Lines: []hunkLine{
				{Kind: lineContext, Text: "a", OldLine: 3, NewLine: 3},
				{Kind: lineRemoved, Text: "b", OldLine: 4},
				{Kind: lineAdded, Text: "c", NewLine: 4},
				{Kind: lineContext, Text: "d", OldLine: 5, NewLine: 5},
			}}},
		},
		"counts default to one": {
			patch: "@@ -1 +1 @@\n-a\n+b\n",
			want: []hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []hunkLine{
				{Kind: lineRemoved, Text: "a", OldLine: 1},
				{Kind: lineAdded, Text: "b", NewLine: 1},
			}}},
		},
		"two hunks": {
			patch: "@@ -1,1 +1,1 @@\n-a\n+b\n@@ -10,2 +10,2 @@\n x\n-y\n+z",
			want: []hunk{
				{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []hunkLine{
					{Kind: lineRemoved, Text: "a", OldLine: 1}, {Kind: lineAdded, Text: "b", NewLine: 1}}},
				{OldStart: 10, OldLines: 2, NewStart: 10, NewLines: 2, Lines: []hunkLine{
					{Kind: lineContext, Text: "x", OldLine: 10, NewLine: 10},
					{Kind: lineRemoved, Text: "y", OldLine: 11}, {Kind: lineAdded, Text: "z", NewLine: 11}}},
			},
		},
		"no newline at end of file": {
			patch: "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a",
			want: []hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []hunkLine{
				{Kind: lineRemoved, Text: "a", OldLine: 1, NoNewline: true},
				{Kind: lineAdded, Text: "a", NewLine: 1},
			}}},
		},
		"no newline marker after the last line": {
			patch: "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file",
			want: []hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []hunkLine{
				{Kind: lineRemoved, Text: "a", OldLine: 1},
				{Kind: lineAdded, Text: "b", NewLine: 1, NoNewline: true},
			}}},
		},
		"empty context line without its space": {
			patch: "@@ -1,2 +1,2 @@\n\n-a\n+b",
			want: []hunk{{OldStart: 1, OldLines: 2, NewStart: 1, NewLines: 2, Lines: []hunkLine{
				{Kind: lineContext, Text: "", OldLine: 1, NewLine: 1},
				{Kind: lineRemoved, Text: "a", OldLine: 2},
				{Kind: lineAdded, Text: "b", NewLine: 2},
			}}},
		},
		"carriage returns are kept": {
			patch: "@@ -1 +1 @@\n-a: 1\r\n+a: 2\r",
			want: []hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1, Lines: []hunkLine{
				{Kind: lineRemoved, Text: "a: 1\r", OldLine: 1},
				{Kind: lineAdded, Text: "a: 2\r", NewLine: 1},
			}}},
		},
		"text before the first hunk":  {patch: "diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b", err: "want a hunk header"},
		"hunk shorter than its count": {patch: "@@ -1,3 +1,3 @@\n a\n-b\n+c", err: "1 old and 1 new lines missing"},
		"removed line beyond count":   {patch: "@@ -1 +1,2 @@\n-a\n-b\n+c", err: "removed line beyond"},
		"added line beyond count":     {patch: "@@ -1,2 +1 @@\n+a\n+b\n-c", err: "added line beyond"},
		"unknown line kind":           {patch: "@@ -1 +1 @@\n*a", err: "unknown hunk line kind"},
		"huge counts":                 {patch: "@@ -1,9999999999 +1 @@\n-a", err: "want a hunk header"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parsePatch(tc.patch)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parsePatch() = %+v, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePatch(): %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parsePatch() =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// renderPatch writes hunks back in the format parsePatch reads.
func renderPatch(hunks []hunk) string {
	var b strings.Builder
	for _, h := range hunks {
		b.WriteString("@@ -" + strconv.Itoa(h.OldStart) + "," + strconv.Itoa(h.OldLines) + " +" + strconv.Itoa(h.NewStart) + "," + strconv.Itoa(h.NewLines) + " @@" + h.Section + "\n")
		for _, l := range h.Lines {
			b.WriteString(string(rune(l.Kind)) + l.Text + "\n")
			if l.NoNewline {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
	}
	return b.String()
}

// FuzzParsePatch checks that any patch parsePatch accepts is consistent
// with its own headers and survives a render and a second parse unchanged.
func FuzzParsePatch(f *testing.F) {
	f.Add(kustomizationExamplePatch)
	f.Add("@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a")
	f.Add("@@ -1,2 +1,2 @@\n\n-a\n+b\n@@ -10,0 +11,1 @@\n+x")
	f.Add("@@ -0,0 +1 @@\n+a: b")
	f.Add("@@ -3,3 +3,3 @@ spec:\n a\n-b\r\n+c\r\n d")
	f.Fuzz(func(t *testing.T, patch string) {
		hunks, err := parsePatch(patch)
		if err != nil {
			return
		}
		for _, h := range hunks {
			var oldN, newN int
			for _, l := range h.Lines {
				switch l.Kind {
				case lineContext:
					if l.OldLine != h.OldStart+oldN || l.NewLine != h.NewStart+newN {
						t.Fatalf("context line numbered %d/%d, want %d/%d", l.OldLine, l.NewLine, h.OldStart+oldN, h.NewStart+newN)
					}
					oldN, newN = oldN+1, newN+1
				case lineRemoved:
					if l.OldLine != h.OldStart+oldN || l.NewLine != 0 {
						t.Fatalf("removed line numbered %d/%d", l.OldLine, l.NewLine)
					}
					oldN++
				case lineAdded:
					if l.NewLine != h.NewStart+newN || l.OldLine != 0 {
						t.Fatalf("added line numbered %d/%d", l.OldLine, l.NewLine)
					}
					newN++
				default:
					t.Fatalf("line kind %q", l.Kind)
				}
			}
			if oldN != h.OldLines || newN != h.NewLines {
				t.Fatalf("hunk has %d old and %d new lines, header says %d and %d", oldN, newN, h.OldLines, h.NewLines)
			}
		}
		again, err := parsePatch(renderPatch(hunks))
		if err != nil {
			t.Fatalf("rendered patch does not parse: %v", err)
		}
		if !reflect.DeepEqual(again, hunks) && !(len(again) == 0 && len(hunks) == 0) {
			t.Fatalf("render and parse changed the hunks:\n%+v\n%+v", hunks, again)
		}
	})
}
