package demo

import (
	"fmt"
	"strings"
)

// fluxStatusPermissions are those of the token that plays Flux's Provider:
// it writes commit statuses, which flux-rollback itself only reads.
var fluxStatusPermissions = map[string]string{"statuses": "write", "metadata": "read"}

// fluxContext is a context as Flux's notification-controller writes it for
// the Kustomization "apps": kind/name/the first part of the Provider's UID.
const fluxContext = "kustomization/apps/1a2b3c4d"

// fluxStatusCommands are the curl commands that post what Flux posts when
// the Kustomization fails its health checks and when it recovers, and that
// read the Rollback check run of the release.
func fluxStatusCommands(githubURL, fluxTokenFile, tokenFile, release string) string {
	post := func(state, description string) string {
		return fmt.Sprintf("  curl -s -X POST -H \"Authorization: token $(cat %s)\" %s/repos/acme/deploy/statuses/%s \\\n"+
			"       -d '{\"state\":%q,\"context\":%q,\"description\":%q}'",
			fluxTokenFile, githubURL, release, state, fluxContext, description)
	}
	look := fmt.Sprintf("  curl -s -H \"Authorization: token $(cat %s)\" '%s/repos/acme/deploy/commits/%s/check-runs?check_name=Rollback' | grep '\"title\"'",
		tokenFile, githubURL, release)
	return strings.Join([]string{post("failure", "health check failed"), look, post("success", "reconciliation succeeded"), look}, "\n")
}
