package server

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/handlers"
)

// TestInstallingDocListsTheHandledEvents keeps the events named in
// docs/installing.md equal to those the server dispatches, so that an App
// registered from the documentation receives every event it needs and no
// other.
func TestInstallingDocListsTheHandledEvents(t *testing.T) {
	data, err := os.ReadFile("../docs/installing.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Events\n")
	if !ok {
		t.Fatal("docs/installing.md has no Events section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(section, -1) {
		documented[m[1]] = true
	}

	handled := map[string]bool{}
	for _, h := range handlers.All(&handlers.Base{}) {
		for _, e := range h.Handles() {
			handled[e] = true
		}
	}
	if got, want := sortedKeys(documented), sortedKeys(handled); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("docs/installing.md names events %v; the handlers handle %v", got, want)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
