package rollback_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// Restores on heads where the image moved to another registry since the
// release, as tracker's frontend moved from gcr.io to Artifact Registry
// under the same marker. Each result is checked with git: `git diff -U0`
// between the head and the restore commit must rewrite exactly the wanted
// lines and nothing else.
func TestRestoreOfAnImageThatMovedSinceTheRelease(t *testing.T) {
	const (
		oldName = "gcr.io/track-compliance/frontend"
		newName = "northamerica-northeast1-docker.pkg.dev/track-compliance/tracker/frontend"
	)
	deployment := func(ref string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: frontend\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - name: frontend\n        image: " + ref + ` # {"$imagepolicy": "flux-system:frontend"}` + "\n" +
			"        ports:\n        - containerPort: 3000\n"
	}
	values := func(repo, tag string) string {
		return "replicaCount: 2\nimage:\n  repository: " + repo + ` # {"$imagepolicy": "flux-system:frontend:name"}` + "\n" +
			"  tag: " + tag + ` # {"$imagepolicy": "flux-system:frontend:tag"}` + "\n  pullPolicy: IfNotPresent\n"
	}
	type step struct {
		message string
		who     fakegithub.Person
		content string
	}
	cases := map[string]struct {
		steps   []step // the first adds the file; steps[release] is the release restored
		release int
		// want is the line of the head the restore rewrites: line, before, after.
		wantLine              int
		wantBefore, wantAfter string
		renamed               bool // the check run and pull request tell of the name change
	}{
		"whole reference, moved to another registry and released since": {
			steps: []step{
				{"Add the frontend", genHuman, deployment(oldName + ":master-1111111")},
				{"Update from image update automation", genFluxV2, deployment(oldName + ":master-2222222")},
				{"Move the frontend to Artifact Registry", genHuman, deployment(newName + ":master-2222222")},
				{"Update from image update automation", genFluxV2, deployment(newName + ":master-3333333")},
			},
			release:  1,
			wantLine: 10, wantBefore: newName + ":master-3333333", wantAfter: oldName + ":master-1111111",
			renamed: true,
		},
		"whole reference, moved by the release after it": {
			steps: []step{
				{"Add the frontend", genHuman, deployment(oldName + ":master-1111111")},
				{"Update from image update automation", genFluxV2, deployment(oldName + ":master-2222222")},
				{"Update from image update automation", genFluxV2, deployment(newName + ":master-3333333")},
			},
			release:  1,
			wantLine: 10, wantBefore: newName + ":master-3333333", wantAfter: oldName + ":master-1111111",
			renamed: true,
		},
		"whole reference, same name since": {
			steps: []step{
				{"Add the frontend", genHuman, deployment(oldName + ":master-1111111")},
				{"Update from image update automation", genFluxV2, deployment(oldName + ":master-2222222")},
				{"Update from image update automation", genFluxV2, deployment(oldName + ":master-3333333")},
			},
			release:  1,
			wantLine: 10, wantBefore: oldName + ":master-3333333", wantAfter: oldName + ":master-1111111",
		},
		"tag alone, its repository moved since": {
			steps: []step{
				{"Add the frontend", genHuman, values(oldName, "master-1111111")},
				{"Update from image update automation", genFluxV2, values(oldName, "master-2222222")},
				{"Move the frontend to Artifact Registry", genHuman, values(newName, "master-2222222")},
				{"Update from image update automation", genFluxV2, values(newName, "master-3333333")},
			},
			release:  1,
			wantLine: 4, wantBefore: "master-3333333", wantAfter: "master-1111111",
		},
	}
	hub := newRestoreHub(t)
	oracle := &gitDiffOracle{}
	for name, tc := range cases {
		slug := strings.NewReplacer(" ", "-", ",", "").Replace(name)
		repo, svc := hub.repo(slug)
		path := "app/" + slug + ".yaml" // trees differ between cases, for git's batch
		clock := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
		var shas []string
		for _, s := range tc.steps {
			clock = clock.Add(time.Minute)
			who := s.who
			who.Date = clock
			sha, err := repo.Commit("main", fakegithub.CommitSpec{Message: s.message + "\n", Author: who,
				Files: map[string]*fakegithub.File{path: {Content: s.content}}})
			if err != nil {
				t.Fatal(err)
			}
			shas = append(shas, sha)
		}
		head := shas[len(shas)-1]
		out, err := svc.Restore(context.Background(), restoreRequest(shas[tc.release]))
		if err != nil {
			t.Fatalf("%s: restore: %v", name, err)
		}
		restored, ok := repo.Ref("heads/" + out.Branch)
		if !ok {
			t.Fatalf("%s: no branch %s", name, out.Branch)
		}
		lines := strings.Split(tc.steps[len(tc.steps)-1].content, "\n")
		before := lines[tc.wantLine-1]
		after := strings.Replace(before, tc.wantBefore, tc.wantAfter, 1)
		if before == after {
			t.Fatalf("%s: line %d %q does not hold %q", name, tc.wantLine, before, tc.wantBefore)
		}
		headInfo, err := repo.CommitInfo(head)
		if err != nil {
			t.Fatal(err)
		}
		info, err := repo.CommitInfo(restored)
		if err != nil {
			t.Fatal(err)
		}
		headTree, err := repo.ReadTree(head)
		if err != nil {
			t.Fatal(err)
		}
		resultTree, err := repo.ReadTree(restored)
		if err != nil {
			t.Fatal(err)
		}
		oracle.add(name, headInfo.Tree, info.Tree, headTree, resultTree,
			[]genLineChange{{path: path, line: tc.wantLine, old: before, new: after}})

		prs := repo.PullRequests()
		if len(prs) != 1 {
			t.Fatalf("%s: %d pull requests", name, len(prs))
		}
		const notice = "The image's name changed since the release."
		if got := strings.Contains(prs[0].Body, notice); got != tc.renamed {
			t.Errorf("%s: pull request body mentions the name change: %v, want %v:\n%s", name, got, tc.renamed, prs[0].Body)
		}
		if got := len(out.Renamed) > 0; got != tc.renamed {
			t.Errorf("%s: Outcome.Renamed = %+v, want a name change: %v", name, out.Renamed, tc.renamed)
		}
		if tc.renamed {
			if r := out.Renamed[0]; r.File != path || r.Line != tc.wantLine || r.Now != tc.wantBefore || r.Restored != tc.wantAfter {
				t.Errorf("%s: Renamed = %+v", name, out.Renamed)
			}
			if !strings.Contains(prs[0].Body, tc.wantAfter) || !strings.Contains(prs[0].Body, tc.wantBefore) {
				t.Errorf("%s: pull request body does not name both references:\n%s", name, prs[0].Body)
			}
		}
	}
	oracle.verify(t)
}
