package hold

import (
	"slices"
	"strings"
	"testing"
)

// heldLine is the held form of a marker for the release d4cc490.
func heldLine(setter string) string {
	return `{"$flux-rollback-hold": "` + setter + `", "rolled_back": "d4cc490"}`
}

func TestHold(t *testing.T) {
	cases := map[string]struct {
		content string
		lines   []int
		want    string
		holds   []Held
	}{
		"whole reference": {
			content: "      image: ghcr.io/acme/api:v1 # {\"$imagepolicy\": \"flux-system:api\"}\n",
			lines:   []int{1},
			want:    "      image: ghcr.io/acme/api:v1 # " + heldLine("flux-system:api") + "\n",
			holds: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`,
				Release: "d4cc490", Value: "ghcr.io/acme/api:v1", Text: heldLine("flux-system:api"), col: 35}},
		},
		"tag, name and digest": {
			content: "images:\n- name: api\n  newName: ghcr.io/acme/api # {\"$imagepolicy\": \"flux-system:api:name\"}\n  newTag: v1 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n  digest: sha256:ab # {\"$imagepolicy\": \"flux-system:api:digest\"}\n",
			lines:   []int{3, 4, 5},
			want:    "images:\n- name: api\n  newName: ghcr.io/acme/api # " + heldLine("flux-system:api:name") + "\n  newTag: v1 # " + heldLine("flux-system:api:tag") + "\n  digest: sha256:ab # " + heldLine("flux-system:api:digest") + "\n",
			holds: []Held{
				{Line: 3, Policy: "flux-system:api", Field: "name", Original: `{"$imagepolicy": "flux-system:api:name"}`, Release: "d4cc490", Value: "ghcr.io/acme/api", Text: heldLine("flux-system:api:name"), col: 30},
				{Line: 4, Policy: "flux-system:api", Field: "tag", Original: `{"$imagepolicy": "flux-system:api:tag"}`, Release: "d4cc490", Value: "v1", Text: heldLine("flux-system:api:tag"), col: 15},
				{Line: 5, Policy: "flux-system:api", Field: "digest", Original: `{"$imagepolicy": "flux-system:api:digest"}`, Release: "d4cc490", Value: "sha256:ab", Text: heldLine("flux-system:api:digest"), col: 22},
			},
		},
		"odd spacing is recorded byte for byte": {
			content: "a: x:1 #{\"$imagepolicy\":\"flux-system:api\"}  \n",
			lines:   []int{1},
			want:    "a: x:1 #{\"$flux-rollback-hold\": \"flux-system:api\", \"rolled_back\": \"d4cc490\", \"was\": \"{\\\"$imagepolicy\\\":\\\"flux-system:api\\\"}\"}  \n",
			holds: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy":"flux-system:api"}`, Release: "d4cc490", Value: "x:1",
				Text: `{"$flux-rollback-hold": "flux-system:api", "rolled_back": "d4cc490", "was": "{\"$imagepolicy\":\"flux-system:api\"}"}`, col: 8}},
		},
		"a line not asked for stays": {
			content: "a: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\nb: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\n",
			lines:   []int{2},
			want:    "a: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\nb: x:1 # " + heldLine("flux-system:api") + "\n",
			holds: []Held{{Line: 2, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x:1",
				Text: heldLine("flux-system:api"), col: 9}},
		},
		"a line without a marker is left alone": {
			content: "a: x:1\nb: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\n",
			lines:   []int{1, 7},
			want:    "a: x:1\nb: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\n",
		},
		"a marker above a list item, asked for by the item's line": {
			content: "args:\n  # {\"$imagepolicy\": \"flux-system:api\"}\n  - x:1\n",
			lines:   []int{3},
			want:    "args:\n  # " + heldLine("flux-system:api") + "\n  - x:1\n",
			holds: []Held{{Line: 2, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x:1",
				Text: heldLine("flux-system:api"), col: 4}},
		},
		"an already held line is not held twice": {
			content: "a: x:1 # " + heldLine("flux-system:api") + "\n",
			lines:   []int{1},
			want:    "a: x:1 # " + heldLine("flux-system:api") + "\n",
		},
		"windows line endings stay": {
			content: "a: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\r\nb: c\r\n",
			lines:   []int{1},
			want:    "a: x:1 # " + heldLine("flux-system:api") + "\r\nb: c\r\n",
			holds: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x:1",
				Text: heldLine("flux-system:api"), col: 9}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, holds := Hold([]byte(tc.content), tc.lines, "d4cc490e9d3f1a2b3c4d5e6f708192a3b4c5d6e7")
			if string(got) != tc.want {
				t.Fatalf("Hold =\n%s\nwant\n%s", got, tc.want)
			}
			if !slices.Equal(holds, tc.holds) {
				t.Fatalf("holds =\n%+v\nwant\n%+v", holds, tc.holds)
			}
			if found := FindHeld(got); len(found) != strings.Count(string(got), "$flux-rollback-hold") {
				t.Fatalf("FindHeld finds %d holds in\n%s", len(found), got)
			}
		})
	}
}

func TestFindHeld(t *testing.T) {
	cases := map[string]struct {
		content string
		want    []Held
	}{
		"as Hold wrote it": {
			content: "spec:\n  newTag: master-26a4b87 # " + heldLine("flux-system:api:tag") + "\n",
			want: []Held{{Line: 2, Policy: "flux-system:api", Field: "tag", Original: `{"$imagepolicy": "flux-system:api:tag"}`,
				Release: "d4cc490", Value: "master-26a4b87", Text: heldLine("flux-system:api:tag"), col: 27}},
		},
		"value changed by hand": {
			content: "spec:\n  newTag: \"master-0000000\"   # " + heldLine("flux-system:api:tag") + "\n",
			want: []Held{{Line: 2, Policy: "flux-system:api", Field: "tag", Original: `{"$imagepolicy": "flux-system:api:tag"}`,
				Release: "d4cc490", Value: "master-0000000", Text: heldLine("flux-system:api:tag"), col: 31}},
		},
		"list item and a marker above an item": {
			content: "- x:1 # " + heldLine("flux-system:api") + "\nargs:\n  # " + heldLine("flux-system:web") + "\n\n  - y:2\n",
			want: []Held{
				{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x:1", Text: heldLine("flux-system:api"), col: 8},
				{Line: 3, Policy: "flux-system:web", Original: `{"$imagepolicy": "flux-system:web"}`, Release: "d4cc490", Value: "y:2", Text: heldLine("flux-system:web"), col: 4},
			},
		},
		"a flow mapping over lines and a quoted value over lines": {
			content: "image: {\n  tag: v1, # " + heldLine("flux-system:api:tag") + "\n}\nb: \"x:1\n  \" # " + heldLine("flux-system:web") + "\n",
			want: []Held{
				{Line: 2, Policy: "flux-system:api", Field: "tag", Original: `{"$imagepolicy": "flux-system:api:tag"}`, Release: "d4cc490", Value: "v1", Text: heldLine("flux-system:api:tag"), col: 13},
				{Line: 5, Policy: "flux-system:web", Original: `{"$imagepolicy": "flux-system:web"}`, Release: "d4cc490", Value: "x:1 ", Text: heldLine("flux-system:web"), col: 6},
			},
		},
		"a file that no longer parses": {
			content: "image: {{ x }} # " + heldLine("flux-system:api") + "\n",
			want: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490",
				Text: heldLine("flux-system:api"), col: 17}},
		},
		"a '#' inside the value is not the comment": {
			content: `a: "x#1" # ` + heldLine("flux-system:api") + "\n",
			want: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x#1",
				Text: heldLine("flux-system:api"), col: 11}},
		},
		"a comment right after a quoted value": {
			content: `a: "x:1"#` + heldLine("flux-system:api") + "\n",
			want: []Held{{Line: 1, Policy: "flux-system:api", Original: `{"$imagepolicy": "flux-system:api"}`, Release: "d4cc490", Value: "x:1",
				Text: heldLine("flux-system:api"), col: 9}},
		},
		"an original that is no marker is refused": {
			content: `a: x:1 # {"$flux-rollback-hold": "flux-system:api", "rolled_back": "d4cc490", "was": "{\"$imagepolicy\": \"flux-system:web\"}"}` + "\n" +
				`b: x:1 # {"$flux-rollback-hold": "flux-system:api", "rolled_back": "d4cc490", "was": "rm -rf"}` + "\n",
		},
		"a setter that is not a policy's": {
			content: `a: x:1 # {"$flux-rollback-hold": "api", "rolled_back": "d4cc490"}` + "\n",
		},
		"words about a hold are no hold": {
			content: "# $flux-rollback-hold: see docs\na: b\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := FindHeld([]byte(tc.content)); !slices.Equal(got, tc.want) {
				t.Fatalf("FindHeld =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestResume(t *testing.T) {
	original := `api:
  image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
  tag: v1 #{"$imagepolicy":"flux-system:api:tag"}
web:
  image: ghcr.io/acme/web:v1 # {"$imagepolicy": "flux-system:web"}
worker:
  image: ghcr.io/acme/worker:v1 # {"$imagepolicy": "apps:worker"}
`
	held, holds := Hold([]byte(original), []int{2, 3, 5, 7}, "d4cc490")
	if len(holds) != 4 {
		t.Fatalf("Hold made %d holds, want 4", len(holds))
	}
	lines := strings.SplitAfter(original, "\n")
	heldLines := strings.SplitAfter(string(held), "\n")
	cases := map[string]struct {
		policies []string
		resumed  []int // lines put back
	}{
		"every policy":          {nil, []int{2, 3, 5, 7}},
		"one policy, two lines": {[]string{"flux-system:api"}, []int{2, 3}},
		"two policies":          {[]string{"flux-system:web", "apps:worker"}, []int{5, 7}},
		"a policy not held":     {[]string{"flux-system:other"}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, undone := Resume(held, tc.policies)
			want := slices.Clone(heldLines)
			for _, l := range tc.resumed {
				want[l-1] = lines[l-1]
			}
			if string(got) != strings.Join(want, "") {
				t.Fatalf("Resume =\n%s\nwant\n%s", got, strings.Join(want, ""))
			}
			var undoneLines []int
			for _, h := range undone {
				undoneLines = append(undoneLines, h.Line)
			}
			if !slices.Equal(undoneLines, tc.resumed) {
				t.Fatalf("Resume undid lines %v, want %v", undoneLines, tc.resumed)
			}
		})
	}
}

// roundTripInputs are files Hold then Resume must give back byte for byte.
func roundTripInputs() map[string]string {
	in := map[string]string{
		"empty":              "",
		"no marker":          "a: b\n",
		"no newline at end":  `a: x:1 # {"$imagepolicy": "flux-system:api"}`,
		"trailing blanks":    "a: x:1 # {\"$imagepolicy\": \"flux-system:api\"} \t \n",
		"tab before comment": "a: x:1\t# {\"$imagepolicy\": \"flux-system:api\"}\n",
		"unicode around":     "# café\nbild: x:1 # {\"$imagepolicy\": \"flux-system:api\", \"notiz\": \"ünter <&>\"}\n",
		"escapes in marker":  "a: x:1 # {\"\\u0024imagepolicy\": \"flux-system:api\"}\nb: c # {\"$imagepolicy\": \"flux-system:web\"}\n",
	}
	for name, tc := range markerCases {
		in["marker case: "+name] = tc.content
	}
	return in
}

func TestHoldThenResumeIsIdentity(t *testing.T) {
	for name, content := range roundTripInputs() {
		t.Run(name, func(t *testing.T) {
			held, holds := Hold([]byte(content), markerLines([]byte(content)), "d4cc490")
			if got := len(Markers([]byte(content))); len(holds) != got {
				t.Fatalf("Hold made %d holds of %d markers", len(holds), got)
			}
			back, _ := Resume(held, nil)
			if string(back) != content {
				t.Fatalf("Resume(Hold(x)) =\n%q\nwant\n%q", back, content)
			}
		})
	}
}
