package release_test

import (
	"fmt"

	"github.com/fluxrollback/flux-rollback/release"
)

func ExampleDetect() {
	c := release.Commit{
		SHA:         "8f2c1d0",
		Message:     "Auto-release gcr.io/track-compliance/api-js:master-26a4b87",
		ParentCount: 1,
		Files: []release.File{{
			Path:   "app/bases/kustomization.yaml",
			Status: "modified",
			Patch: "@@ -8,5 +8,5 @@ resources:\n images:\n - name: gcr.io/track-compliance/api\n   newTag: master-4003aac\n" +
				" - name: gcr.io/track-compliance/api-js\n-  newTag: master-f01225d\n+  newTag: master-26a4b87",
		}},
	}
	r := release.Detect(c, release.Options{})
	for _, ch := range r.Changes {
		fmt.Printf("Flux v%d: %s %s %s -> %s (%s line %d)\n", r.Generation, ch.Image, ch.Field, ch.From, ch.To, ch.File, ch.Line)
	}
	// Output: Flux v1: gcr.io/track-compliance/api-js tag master-f01225d -> master-26a4b87 (app/bases/kustomization.yaml line 12)
}

func ExampleRestore() {
	head := "images:\n- name: gcr.io/track-compliance/api-js\n  newTag: master-9c1e2aa # later release\n"
	restored, err := release.Restore([]byte(head), []release.ImageChange{{
		Image: "gcr.io/track-compliance/api-js", Field: release.FieldTag,
		From: "master-f01225d", To: "master-26a4b87", File: "app/bases/kustomization.yaml", Line: 12,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(restored))
	// Output:
	// images:
	// - name: gcr.io/track-compliance/api-js
	//   newTag: master-f01225d # later release
}
