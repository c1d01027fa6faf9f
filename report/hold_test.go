package report

import (
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/rollback"
)

func heldState(value, heldValue string) rollback.HoldState {
	return rollback.HoldState{
		File: "k8s/apps/api/deployment.yaml", Image: "gcr.io/track-compliance/api-js", HeldValue: heldValue, Requester: "alice",
		Held:        hold.Held{Line: 18, Policy: "flux-system:api", Release: "d4cc490", Value: value},
		PullRequest: &rollback.HoldPullRequest{Number: 7, URL: "https://github.com/acme/deploy/pull/7", MergedAt: "2026-12-03T08:00:00Z"},
	}
}

func TestHeldCheckRun(t *testing.T) {
	tag := heldState("gcr.io/track-compliance/api-js:master-f01225d", "gcr.io/track-compliance/api-js:master-f01225d")
	tag2 := tag
	tag2.File, tag2.Field, tag2.Value, tag2.HeldValue = "k8s/clusters/production/kustomization.yaml", "tag", "master-f01225d", "master-f01225d"
	run := Held([]rollback.HoldState{tag, tag2}, "main")
	if run.Name != HoldCheckRunName || run.Title != "Held: api-js at master-f01225d" || run.Conclusion != "neutral" {
		t.Errorf("check run %+v", run)
	}
	for _, want := range []string{"k8s/apps/api/deployment.yaml:18", "`flux-system:api:tag`", "[#7](https://github.com/acme/deploy/pull/7)", "@alice", "2026-12-03T08:00:00Z"} {
		if !strings.Contains(run.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.Summary)
		}
	}
	if ids := actionIDs(run); ids != ActionResume {
		t.Errorf("actions %s", ids)
	}
	for _, a := range run.Actions {
		if len(a.Label) > 20 || len(a.Identifier) > 20 || len(a.Description) > 40 {
			t.Errorf("action %+v is over GitHub's limits", a)
		}
	}

	edited := Held([]rollback.HoldState{heldState("gcr.io/track-compliance/api-js:master-407f1c2", "gcr.io/track-compliance/api-js:master-f01225d")}, "main")
	if edited.Title != "Held: api-js at master-407f1c2 (edited by hand, still held)" ||
		!strings.Contains(edited.Summary, "The hold is still in place") {
		t.Errorf("edited: %q\n%s", edited.Title, edited.Summary)
	}
}

func TestResumeRefusalKeepsTheButtonOnlyWhileThereIsSomethingToResume(t *testing.T) {
	if ids := actionIDs(ResumeRefused(&rollback.Refusal{Reason: rollback.ReasonPermission, Detail: "@bob has the read role"})); ids != ActionResume {
		t.Errorf("a permission refusal offers %q", ids)
	}
	if ids := actionIDs(ResumeRefused(&rollback.Refusal{Reason: rollback.ReasonNotHeld, Detail: "no image is held on main"})); ids != "" {
		t.Errorf("nothing held offers %q", ids)
	}
}

func TestStatusReply(t *testing.T) {
	none := StatusReply(nil, "main")
	if !strings.Contains(none, "No image is held on `main`") || !strings.Contains(none, "100 merged pull requests") {
		t.Errorf("no holds:\n%s", none)
	}
	some := StatusReply([]rollback.HoldState{heldState("master-f01225d", "master-f01225d")}, "main")
	for _, want := range []string{"gcr.io/track-compliance/api-js", "k8s/apps/api/deployment.yaml:18", "#7", "/rollback resume"} {
		if !strings.Contains(some, want) {
			t.Errorf("status lacks %q:\n%s", want, some)
		}
	}
}
