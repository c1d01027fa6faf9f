package hold

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// clusterPolicies are the ImagePolicies of the cluster the marker cases
// are read against.
var clusterPolicies = []string{"flux-system:api", "flux-system:web", "apps:worker", "apps:worker.v2"}

// markerCases are files with the markers the controller acts on in them,
// by line. Every form Flux accepts is here, and lookalikes it ignores.
var markerCases = map[string]struct {
	content string
	want    map[int]string // line -> setter
}{
	"whole reference in a container image": {`apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:v1.2.3 # {"$imagepolicy": "flux-system:api"}
`, map[int]string{10: "flux-system:api"}},
	"kustomization images: newName, newTag and digest": {`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
- name: api
  newName: ghcr.io/acme/api # {"$imagepolicy": "flux-system:api:name"}
  newTag: master-26a4b87 # {"$imagepolicy": "flux-system:api:tag"}
- name: web
  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000 # {"$imagepolicy": "flux-system:web:digest"}
`, map[int]string{5: "flux-system:api:name", 6: "flux-system:api:tag", 8: "flux-system:web:digest"}},
	"helm values, quoted": {`image:
  repository: "ghcr.io/acme/api" # {"$imagepolicy": "flux-system:api:name"}
  tag: 'v1.2.3' # {"$imagepolicy": "flux-system:api:tag"}
`, map[int]string{2: "flux-system:api:name", 3: "flux-system:api:tag"}},
	"helm release values": {`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: api
  namespace: apps
spec:
  values:
    image:
      tag: "1.0.0" # {"$imagepolicy": "apps:worker:tag"}
`, map[int]string{9: "apps:worker:tag"}},
	"postBuild substitute variable": {`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  postBuild:
    substitute:
      api_image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
      api_tag: "v1" # {"$imagepolicy": "flux-system:api:tag"}
`, map[int]string{8: "flux-system:api", 9: "flux-system:api:tag"}},
	"list items": {`images:
  - ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
  - ghcr.io/acme/web:v2 #{"$imagepolicy":"flux-system:web"}
`, map[int]string{2: "flux-system:api", 3: "flux-system:web"}},
	"marker on its own line above a list item": {`args:
  # {"$imagepolicy": "flux-system:api"}
  - ghcr.io/acme/api:v1
`, map[int]string{3: "flux-system:api"}},
	"odd spacing and doubled hash": {`a: x:1 #{"$imagepolicy":"flux-system:api"}
b: x:2 #   {  "$imagepolicy" :  "flux-system:web"  }   
c: x:3 ## {"$imagepolicy": "apps:worker"}
d: x:4	# {"$imagepolicy": "apps:worker.v2"}
`, map[int]string{1: "flux-system:api", 2: "flux-system:web", 3: "apps:worker", 4: "apps:worker.v2"}},
	"several lines of one policy": {`api:
  image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
migrations:
  image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
  tag: v1 # {"$imagepolicy": "flux-system:api:tag"}
`, map[int]string{2: "flux-system:api", 4: "flux-system:api", 5: "flux-system:api:tag"}},
	"several documents": {`---
kind: Deployment
spec:
  image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}
--- # the worker
kind: Deployment
spec:
  image: ghcr.io/acme/worker:v1 # {"$imagepolicy": "apps:worker"}
`, map[int]string{4: "flux-system:api", 8: "apps:worker"}},
	"windows line endings": {"kind: Deployment\r\nspec:\r\n  image: ghcr.io/acme/api:v1 # {\"$imagepolicy\": \"flux-system:api\"}\r\n---\r\nb: c:1 # {\"$imagepolicy\": \"flux-system:web\"}\r\n",
		map[int]string{3: "flux-system:api", 5: "flux-system:web"}},
	"no newline at the end": {`image: ghcr.io/acme/api:v1 # {"$imagepolicy": "flux-system:api"}`, map[int]string{1: "flux-system:api"}},
	"long form reference kyaml also resolves": {`image: ghcr.io/acme/api:v1 # {"$ref": "#/definitions/io.k8s.cli.setters.flux-system:api"}
tag: v1 # {"$imagepolicy": "flux-system:api:tag"}
`, map[int]string{1: "flux-system:api", 2: "flux-system:api:tag"}},
	"long form alone: the file is never read": {`image: ghcr.io/acme/api:v1 # {"$ref": "#/definitions/io.k8s.cli.setters.flux-system:api"}
`, nil},
	"escaped key still parses as JSON": {`a: x:1 # {"\u0024imagepolicy": "flux-system:api"}
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, map[int]string{1: "flux-system:api", 2: "flux-system:web"}},
	"other members beside the marker": {`a: x:1 # {"$imagepolicy": "flux-system:api", "note": "pinned by hand"}
`, map[int]string{1: "flux-system:api"}},
	"multi-line quoted value": {`a: "ghcr.io/acme/api:v1
  " # {"$imagepolicy": "flux-system:api"}
`, map[int]string{1: "flux-system:api"}},
	"flow mapping spread over lines": {`image: {
  repository: ghcr.io/acme/api,
  tag: v1, # {"$imagepolicy": "flux-system:api:tag"}
}
`, map[int]string{3: "flux-system:api:tag"}},

	// Lookalikes the controller ignores.
	"text after the marker": {`a: x:1 # {"$imagepolicy": "flux-system:api"} pinned
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, map[int]string{2: "flux-system:web"}},
	"text before the marker": {`a: x:1 # pinned {"$imagepolicy": "flux-system:api"}
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, map[int]string{2: "flux-system:web"}},
	"key in another case": {`a: x:1 # {"$ImagePolicy": "flux-system:api"}
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, map[int]string{2: "flux-system:web"}},
	"not a setter the controller defines": {`a: x:1 # {"$imagepolicy": "api"}
b: x:2 # {"$imagepolicy": "flux-system:api:version"}
c: x:3 # {"$imagepolicy": "Flux-System:API"}
d: x:4 # {"$imagepolicy": ""}
e: x:5 # {"$imagepolicy": "flux-system:api"}
`, map[int]string{5: "flux-system:api"}},
	"a member that is not a string": {`a: x:1 # {"$imagepolicy": "flux-system:api", "pinned": true}
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, map[int]string{2: "flux-system:web"}},
	"marker on a key whose value is below it": {`image: # {"$imagepolicy": "flux-system:api"}
  repository: ghcr.io/acme/api
tag: v1 # {"$imagepolicy": "flux-system:web:tag"}
`, map[int]string{3: "flux-system:web:tag"}},
	"marker after a flow collection": {`image: {repository: ghcr.io/acme/api, tag: v1} # {"$imagepolicy": "flux-system:api"}
tags: [v1, v2] # {"$imagepolicy": "flux-system:web:tag"}
`, nil},
	"a line comment hides the marker above": {`args:
  # {"$imagepolicy": "flux-system:api"}
  - ghcr.io/acme/api:v1 # the api
`, nil},
	"no quoted token in the file": {`a: x:1 # {$imagepolicy: flux-system:api}
`, nil},
	"a Helm template the reader cannot parse": {`image: {{ .Values.image }} # {"$imagepolicy": "flux-system:api"}
`, nil},
	"a separator with content fails the file": {`a: x:1 # {"$imagepolicy": "flux-system:api"}
--- !!map
b: x:2 # {"$imagepolicy": "flux-system:web"}
`, nil},
	"a document that is not a mapping fails the file": {`a: x:1 # {"$imagepolicy": "flux-system:api"}
---
- x:2 # {"$imagepolicy": "flux-system:web"}
`, nil},
	"a lone List: only its items": {`apiVersion: v1
kind: List
note: x:0 # {"$imagepolicy": "flux-system:web"}
items:
- kind: Deployment
  image: x:1 # {"$imagepolicy": "flux-system:api"}
`, map[int]string{6: "flux-system:api"}},
}

func TestMarkersAgreeWithTheController(t *testing.T) {
	for name, tc := range markerCases {
		t.Run(name, func(t *testing.T) {
			content := []byte(tc.content)
			want := tc.want
			if want == nil {
				want = map[int]string{}
			}
			flux := controllerMarkers(content, clusterPolicies)
			if flux == nil {
				flux = map[int]string{}
			}
			if !maps.Equal(flux, want) {
				t.Fatalf("the controller's rule sets %v, the case expects %v", flux, want)
			}
			got := map[int]string{}
			for _, m := range Markers(content) {
				got[m.ValueLine] = m.Setter()
				line := strings.Split(strings.ReplaceAll(tc.content, "\r\n", "\n"), "\n")[m.Line-1]
				if !strings.Contains(line, m.Text) || line[m.col:m.col+len(m.Text)] != m.Text {
					t.Errorf("marker %q is not at column %d of line %d: %q", m.Text, m.col, m.Line, line)
				}
			}
			if !maps.Equal(got, want) {
				t.Fatalf("Markers = %v, the controller sets %v", got, want)
			}
		})
	}
}

func TestMarkersFields(t *testing.T) {
	content := []byte(`images:
- name: api
  newTag: "master-26a4b87"   #{"$imagepolicy":"flux-system:api:tag"}  
args:
  # {"$imagepolicy": "flux-system:web"}
  - ghcr.io/acme/web:v2
`)
	want := []Marker{
		{Line: 3, Policy: "flux-system:api", Field: "tag", Text: `{"$imagepolicy":"flux-system:api:tag"}`, ValueLine: 3, Value: "master-26a4b87", col: 30},
		{Line: 5, Policy: "flux-system:web", Field: "", Text: `{"$imagepolicy": "flux-system:web"}`, ValueLine: 6, Value: "ghcr.io/acme/web:v2", col: 4},
	}
	if got := Markers(content); !slices.Equal(got, want) {
		t.Fatalf("Markers =\n%+v\nwant\n%+v", got, want)
	}
}

func TestScansPath(t *testing.T) {
	cases := map[string]bool{
		"apps/api/deployment.yaml": true, "values.yml": true, "base/Kustomization": true,
		"apps/api/kustomization.yaml": true, "charts/api/templates/NOTES.txt": false, "README.md": false,
		"a.yaml.tmpl": false, "Kustomization.bak": false,
	}
	for path, want := range cases {
		t.Run(path, func(t *testing.T) {
			if got := ScansPath(path); got != want {
				t.Errorf("ScansPath(%q) = %v, want %v", path, got, want)
			}
		})
	}
}

// markerLines is every line that carries a marker, for holding them all.
func markerLines(content []byte) []int {
	var lines []int
	for _, m := range Markers(content) {
		lines = append(lines, m.Line)
	}
	return lines
}

func TestTheControllerIgnoresHeldMarkers(t *testing.T) {
	for name, tc := range markerCases {
		t.Run(name, func(t *testing.T) {
			content := []byte(tc.content)
			held, holds := Hold(content, markerLines(content), "d4cc490e9d3f1a2b")
			if len(holds) != len(tc.want) {
				t.Fatalf("Hold made %d holds, want %d", len(holds), len(tc.want))
			}
			if flux := controllerMarkers(held, clusterPolicies); len(flux) != 0 {
				t.Fatalf("the controller still sets %v after the hold:\n%s", flux, held)
			}
			if ms := Markers(held); len(ms) != 0 {
				t.Fatalf("Markers still finds %v after the hold", ms)
			}
			if found := FindHeld(held); len(found) != len(holds) {
				t.Fatalf("FindHeld finds %d holds, Hold made %d:\n%s", len(found), len(holds), held)
			}
			back, undone := Resume(held, nil)
			if string(back) != tc.content {
				t.Fatalf("Resume does not restore the file:\n%q\nwant\n%q", back, tc.content)
			}
			if len(undone) != len(holds) {
				t.Fatalf("Resume undid %d holds, want %d", len(undone), len(holds))
			}
		})
	}
}

func ExampleHold() {
	content := []byte(`images:
- name: ghcr.io/acme/api
  newTag: master-26a4b87 # {"$imagepolicy": "flux-system:api:tag"}
`)
	held, _ := Hold(content, []int{3}, "d4cc490")
	fmt.Print(string(held))
	// Output:
	// images:
	// - name: ghcr.io/acme/api
	//   newTag: master-26a4b87 # {"$flux-rollback-hold": "flux-system:api:tag", "rolled_back": "d4cc490"}
}
