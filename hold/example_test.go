package hold_test

import (
	"fmt"
	"strings"

	"github.com/fluxrollback/flux-rollback/hold"
)

func ExampleResume() {
	held := []byte(`images:
- name: ghcr.io/acme/api
  newTag: master-0000000 # {"$flux-rollback-hold": "flux-system:api:tag", "rolled_back": "d4cc490"}
`)
	for _, h := range hold.FindHeld(held) {
		fmt.Printf("line %d: %s held at %s since the rollback of %s\n", h.Line, h.Setter(), h.Value, h.Release)
	}
	resumed, _ := hold.Resume(held, []string{"flux-system:api"})
	fmt.Print(string(resumed))
	// Output:
	// line 3: flux-system:api:tag held at master-0000000 since the rollback of d4cc490
	// images:
	// - name: ghcr.io/acme/api
	//   newTag: master-0000000 # {"$imagepolicy": "flux-system:api:tag"}
}

func ExampleLockV1() {
	content := []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: tracker
  annotations:
    fluxcd.io/automated: "true"
spec:
  template:
    spec:
      containers:
      - name: api
        image: gcr.io/acme/api-js:master-26a4b87
`)
	locked, workloads := hold.LockV1(content, []int{13}, "d4cc490", "octocat")
	metadata, _, _ := strings.Cut(string(locked), "spec:")
	fmt.Print(metadata)
	for _, w := range workloads {
		fmt.Printf("locked %s:%s/%s for %s\n", w.Namespace, w.Kind, w.Name, w.Release)
	}
	// Output:
	// apiVersion: apps/v1
	// kind: Deployment
	// metadata:
	//   name: api
	//   namespace: tracker
	//   annotations:
	//     fluxcd.io/automated: "true"
	//     fluxcd.io/locked: "true"
	//     fluxcd.io/locked_msg: "flux-rollback: rolled back d4cc490"
	//     fluxcd.io/locked_user: "octocat"
	// locked tracker:Deployment/api for d4cc490
}
