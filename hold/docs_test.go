package hold

import (
	"os"
	"strings"
	"testing"
)

// docExamples returns the examples of the YAML block that follows intro in
// docs/holds.md: one per line, a comment line joined with the line below it
// and more indented lines with the line above.
func docExamples(t *testing.T, doc, intro string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, intro)
	if !ok {
		t.Fatalf("docs/holds.md no longer says %q", intro)
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	block, _, _ := strings.Cut(rest, "```")
	var examples []string
	joinNext := false
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		switch {
		case joinNext || (len(examples) > 0 && strings.HasPrefix(line, " ")):
			examples[len(examples)-1] += "\n" + line
		default:
			examples = append(examples, line)
		}
		joinNext = strings.HasPrefix(line, "#")
	}
	return examples
}

// asFile makes a YAML file of one example: list items go under a key.
func asFile(example string) string {
	if strings.HasPrefix(example, "- ") || strings.HasPrefix(example, "#") {
		return "list:\n  " + strings.ReplaceAll(example, "\n", "\n  ") + "\n"
	}
	return example + "\n"
}

func TestDocsMarkerExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/holds.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, tc := range []struct {
		intro string
		want  int
	}{
		{"So these are all markers the controller acts on", 1},
		{"And these are not markers:", 0},
	} {
		examples := docExamples(t, doc, tc.intro)
		if len(examples) < 4 {
			t.Fatalf("%q: only %d examples", tc.intro, len(examples))
		}
		for _, ex := range examples {
			content := []byte(asFile(ex))
			if got := len(Markers(content)); got != tc.want {
				t.Errorf("%q: Markers finds %d markers in\n%s", tc.intro, got, content)
			}
			if got := len(controllerMarkers(content, clusterPolicies)); got != tc.want {
				t.Errorf("%q: the controller's rule finds %d markers in\n%s", tc.intro, got, content)
			}
		}
	}
}

func TestDocsHeldExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/holds.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, pair := range []struct{ before, after string }{
		{`  newTag: master-26a4b87 # {"$imagepolicy": "flux-system:api:tag"}`,
			`  newTag: master-26a4b87 # {"$flux-rollback-hold": "flux-system:api:tag", "rolled_back": "d4cc490"}`},
		{`image: ghcr.io/acme/api:v1 #{"$imagepolicy":"flux-system:api"}`,
			`image: ghcr.io/acme/api:v1 #{"$flux-rollback-hold": "flux-system:api", "rolled_back": "d4cc490", "was": "{\"$imagepolicy\":\"flux-system:api\"}"}`},
	} {
		if !strings.Contains(doc, strings.TrimSpace(pair.after)) {
			t.Errorf("docs/holds.md does not show %s", pair.after)
		}
		got, _ := Hold([]byte(pair.before+"\n"), []int{1}, "d4cc490")
		if string(got) != pair.after+"\n" {
			t.Errorf("Hold gives\n%s\nthe docs show\n%s", got, pair.after)
		}
	}
	v1 := "kind: Deployment\nmetadata:\n  name: api\n  annotations:\n    fluxcd.io/automated: \"true\"\n"
	locked, _ := LockV1([]byte(v1), []int{3}, "d4cc490", "octocat")
	shown := "  annotations:\n    fluxcd.io/automated: \"true\"\n" + lockLines("    ", "\n")
	if !strings.HasSuffix(string(locked), shown) || !strings.Contains(doc, shown) {
		t.Errorf("LockV1 gives\n%s\nthe docs show\n%s", locked, shown)
	}
}
