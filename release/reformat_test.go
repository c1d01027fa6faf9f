package release

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fileVersions is a FileReader over fixed contents, counting its reads.
type fileVersions struct {
	files map[string]string // "commit:path" -> content
	reads int
	err   error
}

func (f *fileVersions) FileAt(_ context.Context, commit, path string) ([]byte, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	content, ok := f.files[commit+":"+path]
	if !ok {
		return nil, fmt.Errorf("no %s in %s", path, commit)
	}
	return []byte(content), nil
}

const (
	reformatSHA    = "0123456789abcdef0123456789abcdef01234567"
	reformatParent = "89abcdef0123456789abcdef0123456789abcdef"
)

var (
	fluxV2Bot = Identity{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com", Login: "fluxcdbot"}
	fluxV1Bot = Identity{Name: "Weave Flux", Email: "support@weave.works"}
	person    = Identity{Name: "Alice Example", Email: "alice@example.com", Login: "alice"}
	fluxIDs   = Options{Authors: []string{"fluxcdbot", "support@weave.works"}}
)

// A Deployment as a person writes it, and as image-automation-controller
// writes it back through kyaml: the containers list two spaces deeper.
const (
	webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.4.1 # {"$imagepolicy": "flux-system:web"}
        ports:
        - containerPort: 8080
`
	webDeploymentReindented = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2 # {"$imagepolicy": "flux-system:web"}
          ports:
            - containerPort: 8080
`
	webKustomization = `---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
images:
- name: ghcr.io/acme/web
  newTag: 1.4.1 # {"$imagepolicy": "flux-system:web:tag"}
`
	fluxV1HelmReleasePatch = `---
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: demo
spec:
  values:
    image:
      tag: 3.2.0
`
	fluxV1DeploymentPatch = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld
  namespace: demo
spec:
  template:
    spec:
      $setElementOrder/containers:
      - name: helloworld
      - name: sidecar
      containers:
      - image: quay.io/weaveworks/helloworld:master-a000002
        name: helloworld
`
)

// reformatEdit is one file of a test commit: its status and both versions.
type reformatEdit struct {
	path, status, old, new string
}

type reformatCase struct {
	author  Identity
	message string
	opts    Options
	edits   []reformatEdit
	want    []ImageChange // nil: not a release
	gen     int
	// reformatted are the files the release also reformatted.
	reformatted []string
	reads       int    // FileAt calls
	reason      string // part of the reason when not a release
}

func TestAnalyzeReadingReformattedReleases(t *testing.T) {
	webChange := ImageChange{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "apps/web.yaml", Line: 11,
		Setter: "flux-system:web", Replaced: "ghcr.io/acme/web:1.4.1"}
	v2Message := "Update from image update automation\n"
	cases := map[string]reformatCase{
		"v2 release that re-indents a list": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits: []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			want:  []ImageChange{webChange}, gen: 2, reformatted: []string{"apps/web.yaml"}, reads: 2,
		},
		"v2 release that drops a leading ---": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits: []reformatEdit{{"apps/kustomization.yaml", "modified", webKustomization,
				replace(strings.TrimPrefix(webKustomization, "---\n"), "newTag: 1.4.1", "newTag: 1.5.0")}},
			want: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "apps/kustomization.yaml", Line: 7,
				Setter: "flux-system:web:tag"}},
			gen: 2, reformatted: []string{"apps/kustomization.yaml"}, reads: 2,
		},
		"v2 release with a message pattern of the repository": {
			author: fluxV2Bot, message: "chore(images): web 1.4.2\n",
			opts:  Options{Authors: fluxIDs.Authors, MessagePatterns: []*regexp.Regexp{regexp.MustCompile(`^chore\(images\)`)}},
			edits: []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			want:  []ImageChange{webChange}, gen: 2, reformatted: []string{"apps/web.yaml"}, reads: 2,
		},
		"v2 release whose re-indented file sits beside a plain one": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits: []reformatEdit{
				{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented},
				{"apps/canary.yaml", "modified", webDeployment, replace(webDeployment, "web:1.4.1", "web:1.4.2")},
			},
			want:        []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "apps/canary.yaml", Line: 11, Setter: "flux-system:web", Replaced: "ghcr.io/acme/web:1.4.1"}, webChange},
			gen:         2,
			reformatted: []string{"apps/web.yaml"},
			reads:       2, // the plain file's diff is enough
		},
		"v1 patch file from empty to a HelmRelease patch": {
			author: fluxV1Bot, message: "Auto-release stefanprodan/podinfo:3.2.0\n\n[ci skip]\n", opts: fluxIDs,
			edits: []reformatEdit{{"flux-patch.yaml", "modified", "", fluxV1HelmReleasePatch}},
			want:  []ImageChange{{Image: "stefanprodan/podinfo", Field: FieldTag, To: "3.2.0", File: "flux-patch.yaml", Line: 10}},
			gen:   1, reformatted: []string{"flux-patch.yaml"}, reads: 2,
		},
		"v1 patch file created with a Deployment patch": {
			author: fluxV1Bot, message: "Auto-release quay.io/weaveworks/helloworld:master-a000002\n", opts: fluxIDs,
			edits: []reformatEdit{{"flux-patch.yaml", "added", "", fluxV1DeploymentPatch}},
			want: []ImageChange{{Image: "quay.io/weaveworks/helloworld", Field: FieldImage, To: "quay.io/weaveworks/helloworld:master-a000002",
				File: "flux-patch.yaml", Line: 14}},
			gen: 1, reformatted: []string{"flux-patch.yaml"}, reads: 1, // an added file has no version before
		},
		"v1 patch file gains a second workload's patch": {
			author: fluxV1Bot, message: "Auto-release multiple (2) images\n", opts: fluxIDs,
			edits: []reformatEdit{{"flux-patch.yaml", "modified", fluxV1HelmReleasePatch, fluxV1HelmReleasePatch + fluxV1DeploymentPatch}},
			want: []ImageChange{{Image: "quay.io/weaveworks/helloworld", Field: FieldImage, To: "quay.io/weaveworks/helloworld:master-a000002",
				File: "flux-patch.yaml", Line: 24}},
			gen: 1, reformatted: []string{"flux-patch.yaml"}, reads: 2,
		},

		// Precision: only Flux's own commits are read, and only image
		// references may differ.
		"a person re-indents a file and touches no image": {
			author: person, message: "Tidy the indentation\n", opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "1.4.2", "1.4.1")}},
			reason: "changes more than the value", reads: 0,
		},
		"a person re-indents a file with Flux's message": {
			author: person, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			reason: "changes more than the value", reads: 0,
		},
		"a person changes a marked line and another value": {
			author: person, message: "Bump web and scale it\n", opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(replace(webDeployment, "1.4.1", "1.4.2"), "replicas: 2", "replicas: 3")}},
			reason: `"replicas" is not an image reference`, reads: 0,
		},
		"a person changes a marked line and re-indents": {
			author: person, message: "Bump web\n", opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			reason: "changes more than the value", reads: 0,
		},
		"the Flux identity with another message": {
			author: fluxV2Bot, message: "Reformat the deployment\n", opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			reason: "changes more than the value", reads: 0,
		},
		"Flux's message from an identity not configured": {
			author: fluxV2Bot, message: v2Message,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, webDeploymentReindented}},
			reason: "changes more than the value", reads: 0,
		},
		"the Flux identity re-indents and changes another value": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "replicas: 2", "replicas: 3")}},
			reason: `"replicas" is not an image reference`, reads: 2,
		},
		"the Flux identity re-indents and touches no image": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "1.4.2", "1.4.1")}},
			reason: "no image reference changed", reads: 2,
		},
		"the Flux identity adds a key": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "  replicas: 2\n", "  replicas: 2\n  paused: true\n")}},
			reason: "keys were added or removed", reads: 2,
		},
		"the Flux identity quotes a number": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "replicas: 2", `replicas: "2"`)}},
			reason: `the type of "replicas" changed`, reads: 2,
		},
		"the Flux identity changes an unmarked value under a marker's policy": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeploymentReindented, "name: web\n          image", "name: web2\n          image")}},
			reason: `"name" is not an image reference`, reads: 2,
		},
		"a patch document that sets more than images": {
			author: fluxV1Bot, message: "Auto-release stefanprodan/podinfo:3.2.0\n", opts: fluxIDs,
			edits:  []reformatEdit{{"flux-patch.yaml", "modified", "", replace(fluxV1HelmReleasePatch, "      tag: 3.2.0\n", "      tag: 3.2.0\n    replicaCount: 3\n")}},
			reason: `sets "replicaCount", not an image reference`, reads: 2,
		},
		"a patch document without an object's name": {
			author: fluxV1Bot, message: "Auto-release stefanprodan/podinfo:3.2.0\n", opts: fluxIDs,
			edits:  []reformatEdit{{"flux-patch.yaml", "modified", "", "spec:\n  values:\n    image:\n      tag: 3.2.0\n"}},
			reason: "names no Kubernetes object", reads: 2,
		},
		"a document removed": {
			author: fluxV1Bot, message: "Auto-release stefanprodan/podinfo:3.2.0\n", opts: fluxIDs,
			edits:  []reformatEdit{{"flux-patch.yaml", "modified", fluxV1HelmReleasePatch + fluxV1DeploymentPatch, replace(fluxV1HelmReleasePatch, "3.2.0", "3.3.0")}},
			reason: "was removed", reads: 2,
		},
		"a file removed": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits:  []reformatEdit{{"apps/web.yaml", "removed", webDeployment, ""}},
			reason: "is removed", reads: 0,
		},
		"a release the diff shows reads nothing": {
			author: fluxV2Bot, message: v2Message, opts: fluxIDs,
			edits: []reformatEdit{{"apps/web.yaml", "modified", webDeployment, replace(webDeployment, "1.4.1", "1.4.2")}},
			want:  []ImageChange{webChange}, gen: 2, reads: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := Commit{SHA: reformatSHA, Parent: reformatParent, ParentCount: 1, Message: tc.message, Author: tc.author, Committer: tc.author}
			files := &fileVersions{files: map[string]string{}}
			for _, e := range tc.edits {
				f := File{Path: e.path, Status: e.status, Patch: gitPatch(t, e.old, e.new)}
				if e.status != "added" {
					files.files[reformatParent+":"+e.path] = e.old
				}
				if e.status != "removed" {
					files.files[reformatSHA+":"+e.path] = e.new
					f.SHA = "blob-of-" + e.path
				}
				c.Files = append(c.Files, f)
			}
			got, reason, err := AnalyzeReading(context.Background(), c, tc.opts, files)
			if err != nil {
				t.Fatalf("AnalyzeReading(): %v", err)
			}
			if files.reads != tc.reads {
				t.Errorf("%d files read, want %d", files.reads, tc.reads)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("AnalyzeReading() = %s, want no release", dump(got))
				}
				if !strings.Contains(reason, tc.reason) {
					t.Fatalf("reason = %q, want it to contain %q", reason, tc.reason)
				}
				return
			}
			if reason != "" {
				t.Errorf("reason = %q for a release", reason)
			}
			want := &Release{SHA: c.SHA, Generation: tc.gen, Changes: tc.want, Reformatted: tc.reformatted}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("AnalyzeReading() = %s %v\nwant %s %v", dump(got), got.Reformatted, dump(want), want.Reformatted)
			}
		})
	}
}

// TestAnalyzeReadingAgreesWithAnalyze runs every case of TestDetect's kind
// through AnalyzeReading with every author configured: where the diff
// decides, reading changes nothing.
func TestAnalyzeReadingKeepsAnalyzeDecisions(t *testing.T) {
	edits := []edit{
		{"apps/web.yaml", deploymentV1, replace(deploymentV1, "web:1.4.1", "web:1.4.2")},
		{"apps/web.yaml", deploymentV2, replace(deploymentV2, "web:1.4.1", "web:1.4.2")},
		{"apps/web.yaml", deploymentV1, replace(deploymentV1, "replicas: 2", "replicas: 3")},
		{"apps/api.yaml", helmReleaseV1, replace(helmReleaseV1, `"3.1.0"`, `"3.2.0"`)},
	}
	for i, e := range edits {
		c := Commit{SHA: reformatSHA, Parent: reformatParent, ParentCount: 1, Message: "Auto-release x\n", Author: fluxV1Bot,
			Files: modified(t, e)}
		files := &fileVersions{files: map[string]string{reformatParent + ":" + e.path: e.old, reformatSHA + ":" + e.path: e.new}}
		want, wantReason := Analyze(c, fluxIDs)
		got, reason, err := AnalyzeReading(context.Background(), c, fluxIDs, files)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || (want != nil && reason != wantReason) {
			t.Errorf("edit %d: AnalyzeReading() = %s (%q), Analyze() = %s (%q)", i, dump(got), reason, dump(want), wantReason)
		}
		if files.reads != 0 && want != nil {
			t.Errorf("edit %d: a release the diff shows read %d files", i, files.reads)
		}
	}
}

func TestAnalyzeReadingReportsReadErrors(t *testing.T) {
	c := Commit{SHA: reformatSHA, Parent: reformatParent, ParentCount: 1, Message: "Update from image update automation", Author: fluxV2Bot,
		Files: []File{{Path: "apps/web.yaml", Status: "modified", Patch: gitPatch(t, webDeployment, webDeploymentReindented)}}}
	boom := errors.New("GitHub is down")
	_, _, err := AnalyzeReading(context.Background(), c, fluxIDs, &fileVersions{err: boom})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "apps/web.yaml") {
		t.Fatalf("AnalyzeReading() error = %v, want the read error naming the file", err)
	}
	if r, _, err := AnalyzeReading(context.Background(), c, fluxIDs, nil); r != nil || err != nil {
		t.Fatalf("AnalyzeReading() without a reader = %s, %v; want the diff's answer alone", dump(r), err)
	}
}

// TestRevertOfAReformattedReleaseIsRestorable: Restore finds the marked
// reference of a re-indented file on a later head.
func TestRestoreOfAReformattedRelease(t *testing.T) {
	c := Commit{SHA: reformatSHA, Parent: reformatParent, ParentCount: 1, Message: "Update from image update automation", Author: fluxV2Bot,
		Files: []File{{Path: "apps/web.yaml", Status: "modified", Patch: gitPatch(t, webDeployment, webDeploymentReindented)}}}
	files := &fileVersions{files: map[string]string{reformatParent + ":apps/web.yaml": webDeployment, reformatSHA + ":apps/web.yaml": webDeploymentReindented}}
	r, reason, err := AnalyzeReading(context.Background(), c, fluxIDs, files)
	if err != nil || r == nil {
		t.Fatalf("not a release: %q, %v", reason, err)
	}
	head := replace(webDeploymentReindented, "web:1.4.2", "web:1.6.0")
	got, err := Restore([]byte(head), r.Changes)
	if err != nil {
		t.Fatal(err)
	}
	if want := replace(webDeploymentReindented, "web:1.4.2", "web:1.4.1"); string(got) != want {
		t.Fatalf("Restore() =\n%s\nwant\n%s", got, want)
	}
	if !slices.Equal(r.Reformatted, []string{"apps/web.yaml"}) {
		t.Errorf("Reformatted = %v", r.Reformatted)
	}
}
