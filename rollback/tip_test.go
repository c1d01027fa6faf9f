package rollback_test

import (
	"context"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// On the branch's tip, git revert gives the parent's tree: without a hold
// to write, the rollback commit takes it as it is, in one read and no tree
// write, and an empty commit at the tip has nothing to revert.
func TestRevertOfTheBranchTip(t *testing.T) {
	hub := newRestoreHub(t)
	repo, svc := hub.repo("tip")
	when := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	commit := func(who fakegithub.Person, message string, files map[string]*fakegithub.File) string {
		when = when.Add(time.Minute)
		who.Date = when
		sha, err := repo.Commit("main", fakegithub.CommitSpec{Message: message, Author: who, Files: files})
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	commit(genHuman, "Add web\n", map[string]*fakegithub.File{
		"apps/web.yaml": {Content: "image: ghcr.io/acme/web:1.0.0 # {\"$imagepolicy\": \"flux-system:web\"}\n"},
		"bin/run.sh":    {Content: "#!/bin/sh\n", Mode: "100755"},
	})
	parent := commit(genHuman, "Move run.sh and drop its exec bit\n", map[string]*fakegithub.File{
		"bin/run.sh": nil, "scripts/run.sh": {Content: "#!/bin/sh\n"},
	})
	tip := commit(genFluxV2, "Update from image update automation\n", map[string]*fakegithub.File{
		"apps/web.yaml": {Content: "image: ghcr.io/acme/web:1.1.0 # {\"$imagepolicy\": \"flux-system:web\"}\n"},
	})

	// With the hold, the revert's changes are needed to hold the marker:
	// the engine merges, and the branch's first commit is the parent's tree
	// all the same.
	held, err := svc.Revert(context.Background(), restoreRequest(tip))
	if err != nil {
		t.Fatal(err)
	}
	// The revert is the branch's commit on the tip (a hold commit, when
	// there is a marker to hold, comes on top of it).
	revertSHA := held.Branch
	for {
		c, err := repo.CommitInfo(revertSHA)
		if err != nil || len(c.Parents) != 1 {
			t.Fatalf("%s: %+v, %v", revertSHA, c, err)
		}
		if c.Parents[0] == tip {
			break
		}
		revertSHA = c.Parents[0]
	}
	reverted, err := repo.CommitInfo(revertSHA)
	if err != nil {
		t.Fatal(err)
	}
	if parentInfo, _ := repo.CommitInfo(parent); reverted.Tree != parentInfo.Tree {
		t.Errorf("held rollback's revert commit has tree %s, want the parent's %s", reverted.Tree, parentInfo.Tree)
	}

	// Without it, the parent's tree is taken as it is.
	hub.gh.ResetRequests()
	req := restoreRequest(tip)
	noHold := false
	req.Config.Hold = &noHold
	req.Config.BranchPrefix = "unheld-"
	out, err := svc.Revert(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	info, err := repo.CommitInfo(out.Branch)
	if err != nil {
		t.Fatal(err)
	}
	want, err := repo.CommitInfo(parent)
	if err != nil {
		t.Fatal(err)
	}
	if info.Tree != want.Tree || len(info.Parents) != 1 || info.Parents[0] != tip {
		t.Errorf("rollback commit tree %s parents %v, want the parent's tree %s on %s", info.Tree, info.Parents, want.Tree, tip)
	}
	for _, r := range hub.gh.Requests() {
		if r.Route == "POST /repos/{owner}/{repo}/git/trees" || r.Route == "GET /repos/{owner}/{repo}/git/trees/{tree_sha}" {
			t.Errorf("the revert of the tip made %s %s", r.Method, r.Path)
		}
	}

	empty, err := repo.WriteCommit(fakegithub.CommitObject{Tree: want.Tree, Parents: []string{parent},
		Author: want.Author, Committer: want.Committer, Message: "Nothing\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.SetRef("main", empty); err != nil {
		t.Fatal(err)
	}
	req = restoreRequest(empty)
	req.Config.Hold = &noHold
	req.RequireRelease = false
	_, err = svc.Revert(context.Background(), req)
	if r := asRefusal(t, err); r.Reason != rollback.ReasonNothingToRevert {
		t.Errorf("revert of an empty commit at the tip: %v, want nothing to revert", err)
	}
}
