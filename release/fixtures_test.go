package release

import "strings"

// Digests used by the fixtures.
const (
	digestA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	digestC = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

// deploymentV1 is a workload as fluxd automates it; web at line 12, worker
// at line 16.
const deploymentV1 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.4.1
        ports:
        - containerPort: 8080
      - name: worker
        image: ghcr.io/acme/worker:2.0.0
`

// helmReleaseV1 holds an image map (repository line 14, tag line 15) and a
// whole reference (line 18) in its values.
const helmReleaseV1 = `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: api
  annotations:
    fluxcd.io/automated: "true"
spec:
  chart:
    repository: https://charts.example.com
    name: api
    version: 1.2.0
  values:
    image:
      repository: ghcr.io/acme/api
      tag: "3.1.0"
      pullPolicy: IfNotPresent
    sidecar:
      image: docker.io/library/nginx:1.25.3
`

// helmReleaseV2 carries Flux v2 name and tag setters (lines 9 and 10).
const helmReleaseV2 = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  values:
    image:
      repository: ghcr.io/acme/web # {"$imagepolicy": "flux-system:web:name"}
      tag: 1.4.1 # {"$imagepolicy": "flux-system:web:tag"}
`

// kustomizationV2 carries name, tag and digest setters in images: entries
// (newName line 7, newTag line 8, digest line 10).
const kustomizationV2 = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
images:
- name: ghcr.io/acme/web
  newName: ghcr.io/acme/web # {"$imagepolicy": "flux-system:web:name"}
  newTag: 1.4.1 # {"$imagepolicy": "flux-system:web:tag"}
- name: ghcr.io/acme/db
  digest: ` + digestA + ` # {"$imagepolicy": "flux-system:db:digest"}
`

// deploymentV2 carries whole-reference setters (lines 9 and 11).
const deploymentV2 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - image: ghcr.io/acme/web:1.4.1 # {"$imagepolicy": "flux-system:web"}
        name: web
      - image: ghcr.io/acme/worker:2.0.0 # {"$imagepolicy": "flux-system:worker"}
        name: worker
`

// replace returns s with the first occurrence of old replaced by new, and
// panics when old is missing so that a fixture typo fails loudly.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("fixture does not contain " + old)
	}
	return strings.Replace(s, old, new, 1)
}
