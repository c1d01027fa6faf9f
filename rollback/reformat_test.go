package rollback_test

import (
	"context"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// A Flux v1 release written into a .flux.yaml patch file is rolled back by
// its exact revert (the patch file goes back to empty); Restore, which would
// need the value the patched manifest held, refuses.
func TestRollbackOfAFluxV1PatchFileRelease(t *testing.T) {
	hub := newRestoreHub(t)
	repo, svc := hub.repo("patch-file")
	svc.Files = svc.Repo.(release.FileReader)
	when := time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)
	commit := func(who fakegithub.Person, message string, files map[string]string) string {
		when = when.Add(time.Minute)
		who.Date = when
		spec := fakegithub.CommitSpec{Message: message, Author: who, Files: map[string]*fakegithub.File{}}
		for p, c := range files {
			spec.Files[p] = &fakegithub.File{Content: c}
		}
		sha, err := repo.Commit("main", spec)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	commit(genHuman, "Add podinfo\n", map[string]string{
		".flux.yaml":      "version: 1\npatchUpdated:\n  generators:\n  - command: kustomize build .\n  patchFile: flux-patch.yaml\n",
		"flux-patch.yaml": "",
		"podinfo.yaml":    "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: demo\nspec:\n  values:\n    image:\n      repository: stefanprodan/podinfo\n      tag: 3.1.0\n",
	})
	rel := commit(genFluxV1, "Auto-release stefanprodan/podinfo:3.2.0\n\n[ci skip]\n", map[string]string{
		"flux-patch.yaml": "---\napiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: demo\nspec:\n  values:\n    image:\n      tag: 3.2.0\n",
	})

	req := restoreRequest(rel)
	req.Detection = release.Options{Authors: []string{"support@weave.works"}}
	out, err := svc.Revert(context.Background(), req)
	if err != nil {
		t.Fatalf("revert: %v", err)
	}
	if out.Release == nil || len(out.Release.Changes) != 1 || out.Release.Changes[0].Image != "stefanprodan/podinfo" || out.Release.Changes[0].To != "3.2.0" {
		t.Fatalf("release %+v", out.Release)
	}
	if got, err := repo.ReadFile(out.Branch, "flux-patch.yaml"); err != nil || got != "" {
		t.Errorf("flux-patch.yaml on %s = %q, %v; want it empty again", out.Branch, got, err)
	}

	// Without the identity configured the commit is not a release.
	req.Detection = release.Options{}
	req.Config.BranchPrefix = "other-"
	if _, err := svc.Revert(context.Background(), req); asRefusal(t, err).Reason != rollback.ReasonNotARelease {
		t.Errorf("revert without the configured identity: %v, want not a release", err)
	}

	req.Detection = release.Options{Authors: []string{"support@weave.works"}}
	_, err = svc.Restore(context.Background(), req)
	if r := asRefusal(t, err); r.Reason != rollback.ReasonUnsupported {
		t.Errorf("restore: %v, want unsupported", err)
	}
}
