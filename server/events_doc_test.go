package server

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
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

// TestInstallingDocListsThePermissions keeps three lists equal: the
// permissions the registration manifest asks for (handlers.Permissions), the
// ones the embedded GitHub grants the tests' installations (so a handler that
// needs more fails the tests), and docs/installing.md's table.
func TestInstallingDocListsThePermissions(t *testing.T) {
	data, err := os.ReadFile("../docs/installing.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Permissions\n")
	if !ok {
		t.Fatal("docs/installing.md has no Permissions section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	// GitHub's settings page names the permissions; manifests use keys.
	keys := map[string]string{
		"Checks": "checks", "Contents": "contents", "Pull requests": "pull_requests", "Issues": "issues",
		"Metadata": "metadata", "Commit statuses": "statuses",
	}
	access := map[string]string{"Read and write": "write", "Read-only": "read"}
	documented := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([A-Z][a-z ]+) \| (Read and write|Read-only) \|`).FindAllStringSubmatch(section, -1) {
		key, ok := keys[m[1]]
		if !ok {
			t.Errorf("docs/installing.md names the permission %q; add its manifest key to this test", m[1])
			continue
		}
		documented[key] = access[m[2]]
	}
	if fmt.Sprint(documented) != fmt.Sprint(handlers.Permissions) {
		t.Errorf("docs/installing.md lists %v; the manifest asks for %v", documented, handlers.Permissions)
	}
	if fmt.Sprint(fakegithub.DefaultPermissions) != fmt.Sprint(handlers.Permissions) {
		t.Errorf("the embedded GitHub grants the tests %v; the manifest asks for %v", fakegithub.DefaultPermissions, handlers.Permissions)
	}
}
