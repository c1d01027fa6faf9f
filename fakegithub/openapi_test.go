package fakegithub_test

import (
	"os"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// TestRoutesExistInGitHubsOpenAPI checks every route the fake serves against
// GitHub's official REST description (extracted by
// scripts/extract-openapi-routes.sh), so the fake cannot invent a route or
// misname a path parameter.
func TestRoutesExistInGitHubsOpenAPI(t *testing.T) {
	b, err := os.ReadFile("testdata/openapi-routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	official := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		official[line] = true
	}
	routes := fakegithub.Routes()
	if len(routes) == 0 {
		t.Fatal("the fake serves no routes")
	}
	for _, r := range routes {
		if !official[r.String()] {
			t.Errorf("%s is not in GitHub's OpenAPI description (run scripts/extract-openapi-routes.sh after adding a route)", r)
		}
	}
}
