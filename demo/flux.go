package demo

import (
	"fmt"
	"strings"

	"github.com/fluxrollback/flux-rollback/report"
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

// fluxDescriptions are the descriptions Flux writes with each state: the
// event's reason, split at its capitals and lower-cased.
var fluxDescriptions = map[string]string{"failure": "health check failed", "success": "reconciliation succeeded"}

// fluxWarnings prints the Rollback check runs that show Flux failing, and the
// pull requests numbered above prsBefore.
func (s *session) fluxWarnings(prsBefore int) {
	warned := 0
	for _, r := range s.repo.CheckRuns("") {
		if r.Name == report.CheckRunName && report.HasFluxWarning(report.CheckRun{Summary: r.Output.Summary}) {
			fmt.Fprintf(s.p.out, "  check run %d on %s: %s\n", r.ID, short(r.HeadSHA), r.Output.Title)
			warned++
		}
	}
	if warned == 0 {
		fmt.Fprintln(s.p.out, "  no release shows Flux failing")
	}
	for _, pr := range s.repo.PullRequests() {
		if pr.Number > prsBefore {
			fmt.Fprintf(s.p.out, "  flux-rollback opened #%d by itself: %s\n", pr.Number, pr.Title)
		}
	}
}

// newestPullRequest is the highest pull request number so far.
func (s *session) newestPullRequest() int {
	n := 0
	for _, pr := range s.repo.PullRequests() {
		n = max(n, pr.Number)
	}
	return n
}
