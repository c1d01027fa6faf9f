package report

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fluxstatus"
)

func commitPage(sha string) string { return "https://github.com/acme/deploy/commit/" + sha }

// TestFluxStatusRoundTrip puts Flux's warning on check runs and takes it off
// again: what they showed before comes back byte for byte, whatever their
// title holds.
func TestFluxStatusRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	failing := fluxstatus.Verdict{SHA: "abc1234def", Contexts: []fluxstatus.ContextState{{
		Latest:  fluxstatus.Status{Context: "kustomization/apps/1a2b3c4d", State: "failure", Description: "health check failed", Time: at, Commit: "fff1234aaa"},
		Failing: true, FirstFailure: fluxstatus.Status{Context: "kustomization/apps/1a2b3c4d", State: "failure", Commit: "abc1234def"},
	}}}
	healthy := fluxstatus.Verdict{SHA: "abc1234def"}
	tests := map[string]CheckRun{
		"a release":          {Status: "completed", Conclusion: "neutral", Title: "api-js a -> b", Summary: "Flux released this commit.\n"},
		"a title with -->":   {Status: "completed", Title: `x --> "y" <!-- z`, Summary: "<!-- not ours -->\n"},
		"an empty summary":   {Status: "completed", Title: "t"},
		"a leading new line": {Status: "completed", Title: "t", Summary: "\n\nbody\n"},
	}
	for name, before := range tests {
		t.Run(name, func(t *testing.T) {
			warned, changed := FluxStatus(before, failing, false, commitPage)
			if !changed || warned.Title != "Flux reports kustomization/apps/1a2b3c4d failing since this release" || !HasFluxWarning(warned) {
				t.Fatalf("warned = %+v", warned)
			}
			for _, want := range []string{"health check failed", "2026-12-03 08:00:00 UTC", commitPage("fff1234aaa"), "(first on [abc1234](" + commitPage("abc1234def") + "))", before.Summary} {
				if !strings.Contains(warned.Summary, want) {
					t.Errorf("summary lacks %q:\n%s", want, warned.Summary)
				}
			}
			if again, changed := FluxStatus(warned, failing, false, commitPage); changed || again.Summary != warned.Summary {
				t.Errorf("the same verdict again changed the check run")
			}
			cleared, changed := FluxStatus(warned, healthy, false, commitPage)
			if !changed || cleared.Title != before.Title || cleared.Summary != before.Summary || HasFluxWarning(cleared) {
				t.Errorf("cleared = %q %q, want %q %q", cleared.Title, cleared.Summary, before.Title, before.Summary)
			}
			if _, changed := FluxStatus(before, healthy, false, commitPage); changed {
				t.Error("a healthy verdict changed a check run without a warning")
			}
		})
	}
}

func TestFluxStatusCutAndLinks(t *testing.T) {
	v := fluxstatus.Verdict{SHA: "abc1234def", Contexts: []fluxstatus.ContextState{
		{Latest: fluxstatus.Status{Context: "kustomization/a/1", State: "failure", TargetURL: "https://flux.example/ui (a)", Commit: "abc1234def"}, Failing: true},
		{Latest: fluxstatus.Status{Context: "kustomization/b/1", State: "failure", TargetURL: "javascript:alert(1)", Commit: "abc1234def"}, Failing: true},
	}}
	out, _ := FluxStatus(CheckRun{Status: "completed", Title: "t"}, v, true, commitPage)
	if out.Title != "Flux reports 2 Kustomizations failing since this release" {
		t.Errorf("title = %q", out.Title)
	}
	for _, want := range []string{"(https://flux.example/ui%20%28a%29)", "[abc1234](" + commitPage("abc1234def") + ")", "latest 20 commits", "at an unknown time"} {
		if !strings.Contains(out.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, out.Summary)
		}
	}
	if strings.Contains(out.Summary, "javascript:") {
		t.Errorf("a non-web target URL is linked:\n%s", out.Summary)
	}
}
