package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

const sha = "d4cc4901f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"

func TestTitle(t *testing.T) {
	apiJS := release.ImageChange{Image: "gcr.io/acme/api-js", From: "master-f01225d", To: "master-26a4b87"}
	web := release.ImageChange{Image: "ghcr.io/acme/web", From: "1.4.2", To: "1.4.3"}
	long := release.ImageChange{Image: "r/" + strings.Repeat("é", 100), From: "a", To: "b"}
	cases := map[string]struct {
		changes []release.ImageChange
		want    string
	}{
		"one image":     {[]release.ImageChange{apiJS}, "api-js master-f01225d -> master-26a4b87"},
		"several":       {[]release.ImageChange{apiJS, web}, "api-js master-f01225d -> master-26a4b87 and 1 more"},
		"none":          {nil, "Flux release"},
		"cut on a rune": {[]release.ImageChange{long}, strings.Repeat("é", 59) + "…"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Title(tc.changes)
			if got != tc.want {
				t.Errorf("Title = %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Title %q is not valid UTF-8", got)
			}
		})
	}
}

// TestActionsFitGitHubLimits: GitHub refuses a check run whose action label
// or identifier is over 20 characters or description over 40.
func TestActionsFitGitHubLimits(t *testing.T) {
	outputs := map[string]CheckRun{
		"release":    Release(&release.Release{SHA: sha, Changes: []release.ImageChange{{Image: "x", From: "1", To: "2"}}}, "main"),
		"superseded": Refused(&rollback.Refusal{Reason: rollback.ReasonConflict, Commit: sha, Superseded: &rollback.Superseded{}}),
	}
	for name, o := range outputs {
		if len(o.Actions) == 0 || len(o.Actions) > 3 {
			t.Errorf("%s: %d actions", name, len(o.Actions))
		}
		for _, a := range o.Actions {
			if len(a.Label) > 20 || len(a.Identifier) > 20 || len(a.Description) > 40 {
				t.Errorf("%s: action %+v is over GitHub's limits", name, a)
			}
		}
	}
	if ids := actionIDs(outputs["superseded"]); ids != "rollback,restore" {
		t.Errorf("a superseded release offers %s, want rollback and restore", ids)
	}
	if ids := actionIDs(Refused(&rollback.Refusal{Reason: rollback.ReasonConflict, Commit: sha})); ids != "rollback" {
		t.Errorf("a plain conflict offers %s, want only rollback", ids)
	}
}

func actionIDs(o CheckRun) string {
	var ids []string
	for _, a := range o.Actions {
		ids = append(ids, a.Identifier)
	}
	return strings.Join(ids, ",")
}

func TestConflictHunkText(t *testing.T) {
	h := revert.ConflictHunk{
		Base:   revert.LineRange{Start: 11, Lines: []string{"  newTag: master-26a4b87\n"}},
		Head:   revert.LineRange{Start: 11, Lines: []string{"  newTag: pinned\n"}},
		Parent: revert.LineRange{Start: 11, Lines: []string{"  newTag: master-f01225d"}},
	}
	want := "<<<<<<< branch head (line 11)\n  newTag: pinned\n" +
		"||||||| release commit (line 11)\n  newTag: master-26a4b87\n" +
		"=======\n  newTag: master-f01225d\n" +
		">>>>>>> before the release (line 11)\n"
	if got := conflictHunkText(h); got != want {
		t.Errorf("conflictHunkText =\n%s\nwant\n%s", got, want)
	}
}

func TestRestorableTag(t *testing.T) {
	cases := map[string]struct {
		moved rollback.MovedImage
		tag   string
		ok    bool
	}{
		"tag":                    {rollback.MovedImage{Image: "gcr.io/acme/api-js", Before: "master-f01225d"}, "master-f01225d", true},
		"whole reference":        {rollback.MovedImage{Image: "ghcr.io/acme/web", Before: "ghcr.io/acme/web:1.4.1"}, "1.4.1", true},
		"another image's name":   {rollback.MovedImage{Image: "ghcr.io/acme/web", Before: "ghcr.io/acme/old:1.0"}, "", false},
		"digest":                 {rollback.MovedImage{Image: "ghcr.io/acme/web", Before: "sha256:0123"}, "", false},
		"image name not in diff": {rollback.MovedImage{Policy: "flux-system:web", Before: "1.4.1"}, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tag, ok := restorableTag(tc.moved)
			if tag != tc.tag || ok != tc.ok {
				t.Errorf("restorableTag = %q, %v; want %q, %v", tag, ok, tc.tag, tc.ok)
			}
		})
	}
}

func TestRefusalReplySuggestsOnlyWorkingCommands(t *testing.T) {
	later := []rollback.LaterRelease{{SHA: sha, Tag: "master-9c1e2f0", Date: "2026-11-25T10:00:00Z"}}
	r := &rollback.Refusal{Reason: rollback.ReasonConflict, Commit: sha, Detail: "conflicts", Superseded: &rollback.Superseded{Images: []rollback.MovedImage{
		{Image: "gcr.io/acme/api-js", Before: "master-f01225d", Now: "master-9c1e2f0", Later: later},
		{Image: "ghcr.io/acme/web", Before: "sha256:0123", Now: "sha256:4567", Later: later},
	}}}
	reply := RefusalReply(r)
	if !strings.Contains(reply, "/rollback gcr.io/acme/api-js to master-f01225d") {
		t.Errorf("no restore command for the tagged image:\n%s", reply)
	}
	if strings.Contains(reply, "/rollback ghcr.io/acme/web to") {
		t.Errorf("a command that cannot work is suggested for the digest:\n%s", reply)
	}
	if !strings.Contains(reply, "**Restore**") {
		t.Errorf("the digest-pinned image is not pointed to the Restore button:\n%s", reply)
	}
}

func TestOutcomeTextWarnsAboutFluxOnlyForImages(t *testing.T) {
	base := rollback.Outcome{Commit: &rollback.Commit{Commit: release.Commit{SHA: sha}}, Branch: "rollback-d4cc490",
		PullRequest: &rollback.PullRequest{Number: 7, URL: "https://github.com/acme/deploy/pull/7"}}
	plain := base
	withImages := base
	withImages.Targets = []release.ImageChange{{Image: "gcr.io/acme/api-js", From: "master-f01225d", To: "master-26a4b87", File: "k.yaml"}}
	if text := OutcomeText(&plain, "alice"); strings.Contains(text, "Flux") || !strings.Contains(text, "#7") {
		t.Errorf("a commit without images:\n%s", text)
	}
	text := OutcomeText(&withImages, "alice")
	for _, want := range []string{"#7", "master-f01225d", "master-26a4b87", "held by hand"} {
		if !strings.Contains(text, want) {
			t.Errorf("outcome text lacks %q:\n%s", want, text)
		}
	}
}

func TestDoneTellsOfAnImageThatMovedSinceTheRelease(t *testing.T) {
	out := &rollback.Outcome{
		Commit:      &rollback.Commit{},
		Branch:      "rollback-d4cc490-restore",
		PullRequest: &rollback.PullRequest{Number: 7, URL: "https://github.com/acme/deploy/pull/7"},
		Targets: []release.ImageChange{{Image: "gcr.io/track-compliance/frontend", Field: release.FieldTag,
			From: "master-1111111", To: "master-2222222", File: "app/frontend.yaml", Line: 10, Setter: "flux-system:frontend"}},
	}
	out.Commit.SHA = sha
	if got := Done(out, "alice").Summary; strings.Contains(got, "name changed") {
		t.Errorf("summary of a restore without a name change mentions one:\n%s", got)
	}
	out.Renamed = []release.Renamed{{File: "app/frontend.yaml", Line: 10,
		Now:      "northamerica-northeast1-docker.pkg.dev/track-compliance/tracker/frontend:master-3333333",
		Restored: "gcr.io/track-compliance/frontend:master-1111111"}}
	got := Done(out, "alice").Summary
	for _, want := range []string{"The image's name changed since the release.", "app/frontend.yaml line 10",
		"`gcr.io/track-compliance/frontend:master-1111111`", "`northamerica-northeast1-docker.pkg.dev/track-compliance/tracker/frontend:master-3333333`"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary does not say %q:\n%s", want, got)
		}
	}
}
