package release

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The example of a real fluxd release, verbatim, in app/bases/kustomization.yaml.
const kustomizationExamplePatch = `@@ -8,5 +8,5 @@ resources:
 images:
 - name: gcr.io/track-compliance/api
   newTag: master-4003aac
 - name: gcr.io/track-compliance/api-js
-  newTag: master-f01225d
+  newTag: master-26a4b87`

type detectCase struct {
	commit Commit // SHA, ParentCount 1 and the files of edits are filled in
	edits  []edit
	root   bool // keep ParentCount 0
	opts   Options
	want   []ImageChange // nil: not a release
	gen    int
	reason string // part of the reason when not a release
}

func TestDetect(t *testing.T) {
	webTag := replace(deploymentV1, "web:1.4.1", "web:1.4.2")
	bothTags := replace(webTag, "worker:2.0.0", "worker:2.1.0")
	webChange := ImageChange{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "apps/web.yaml", Line: 12, Replaced: "ghcr.io/acme/web:1.4.1"}
	v2Web := replace(deploymentV2, "web:1.4.1", "web:1.4.2")
	v2WebChange := ImageChange{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "apps/web.yaml", Line: 9, Setter: "flux-system:web", Replaced: "ghcr.io/acme/web:1.4.1"}

	cases := map[string]detectCase{
		"kustomization example from a real fluxd release": {
			commit: Commit{Message: "Auto-release gcr.io/track-compliance/api-js:master-26a4b87", Files: []File{{
				Path: "app/bases/kustomization.yaml", Status: "modified", Patch: kustomizationExamplePatch,
			}}},
			gen: 1,
			want: []ImageChange{{Image: "gcr.io/track-compliance/api-js", Field: FieldTag, From: "master-f01225d", To: "master-26a4b87",
				File: "app/bases/kustomization.yaml", Line: 12}},
		},
		"v1 auto-release": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"v1 auto-release with [ci skip] on the first line": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2 [ci skip]"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"v1 auto-release with [ci skip] in the body": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2\n\n[ci skip]\n"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"v1 auto-release of multiple images lists each in line order": {
			commit: Commit{Message: "Auto-release multiple (2) images\n\n - ghcr.io/acme/web:1.4.2\n - ghcr.io/acme/worker:2.1.0\n\n[ci skip]"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, bothTags}},
			gen:    1,
			want: []ImageChange{webChange,
				{Image: "ghcr.io/acme/worker", Field: FieldTag, From: "2.0.0", To: "2.1.0", File: "apps/web.yaml", Line: 16, Replaced: "ghcr.io/acme/worker:2.0.0"}},
		},
		"v1 release to workloads": {
			commit: Commit{Message: "Release ghcr.io/acme/web:1.4.2 to default:deployment/web"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"v1 release all latest across files, in file order": {
			commit: Commit{Message: "Release all latest to default:deployment/web, default:helmrelease/api\n\n[ci skip]"},
			edits: []edit{
				{"apps/web.yaml", deploymentV1, webTag},
				{"apps/api.yaml", helmReleaseV1, replace(helmReleaseV1, `tag: "3.1.0"`, `tag: "3.2.0"`)},
			},
			gen: 1,
			want: []ImageChange{
				{Image: "ghcr.io/acme/api", Field: FieldTag, From: "3.1.0", To: "3.2.0", File: "apps/api.yaml", Line: 15},
				webChange,
			},
		},
		"v1 HelmRelease whole reference": {
			commit: Commit{Message: "Auto-release docker.io/library/nginx:1.25.4"},
			edits:  []edit{{"apps/api.yaml", helmReleaseV1, replace(helmReleaseV1, "nginx:1.25.3", "nginx:1.25.4")}},
			gen:    1,
			want:   []ImageChange{{Image: "docker.io/library/nginx", Field: FieldTag, From: "1.25.3", To: "1.25.4", File: "apps/api.yaml", Line: 18, Replaced: "docker.io/library/nginx:1.25.3"}},
		},
		"v1 HelmRelease repository and tag together": {
			commit: Commit{Message: "Release ghcr.io/acme/api-ng:4.0.0 to default:helmrelease/api"},
			edits: []edit{{"apps/api.yaml", helmReleaseV1,
				replace(replace(helmReleaseV1, "repository: ghcr.io/acme/api\n", "repository: ghcr.io/acme/api-ng\n"), `"3.1.0"`, `"4.0.0"`)}},
			gen: 1,
			want: []ImageChange{
				{Image: "ghcr.io/acme/api-ng", Field: FieldName, From: "ghcr.io/acme/api", To: "ghcr.io/acme/api-ng", File: "apps/api.yaml", Line: 14},
				{Image: "ghcr.io/acme/api-ng", Field: FieldTag, From: "3.1.0", To: "4.0.0", File: "apps/api.yaml", Line: 15},
			},
		},
		"v1 digest in a whole reference": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web@" + digestB},
			edits: []edit{{"apps/web.yaml", replace(deploymentV1, "web:1.4.1", "web@"+digestA),
				replace(deploymentV1, "web:1.4.1", "web@"+digestB)}},
			gen:  1,
			want: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldDigest, From: digestA, To: digestB, File: "apps/web.yaml", Line: 12, Replaced: "ghcr.io/acme/web@" + digestA}},
		},
		"v1 name change is a whole-reference change": {
			commit: Commit{Message: "Release ghcr.io/acme/web-ng:1.0.0 to default:deployment/web"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, replace(deploymentV1, "web:1.4.1", "web-ng:1.0.0")}},
			gen:    1,
			want: []ImageChange{{Image: "ghcr.io/acme/web-ng", Field: FieldImage, From: "ghcr.io/acme/web:1.4.1", To: "ghcr.io/acme/web-ng:1.0.0",
				File: "apps/web.yaml", Line: 12, Replaced: "ghcr.io/acme/web:1.4.1"}},
		},
		"v1 kustomization digest": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/db@" + digestB},
			edits: []edit{{"kustomization.yaml", "images:\n- name: ghcr.io/acme/db\n  digest: " + digestA + "\n",
				"images:\n- name: ghcr.io/acme/db\n  digest: " + digestB + "\n"}},
			gen:  1,
			want: []ImageChange{{Image: "ghcr.io/acme/db", Field: FieldDigest, From: digestA, To: digestB, File: "kustomization.yaml", Line: 3}},
		},
		"v1 kustomization newName": {
			commit: Commit{Message: "Release ghcr.io/acme/web-ng to all"},
			edits: []edit{{"kustomization.yaml", "images:\n  - name: web\n    newName: ghcr.io/acme/web\n    newTag: 1.0.0\n",
				"images:\n  - name: web\n    newName: ghcr.io/acme/web-ng\n    newTag: 1.0.0\n"}},
			gen:  1,
			want: []ImageChange{{Image: "web", Field: FieldName, From: "ghcr.io/acme/web", To: "ghcr.io/acme/web-ng", File: "kustomization.yaml", Line: 3}},
		},
		"v2 whole-reference setter in a Deployment, any message and author": {
			commit: Commit{Message: "chore: bump images", Author: Identity{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com"}},
			edits:  []edit{{"apps/web.yaml", deploymentV2, v2Web}},
			gen:    2, want: []ImageChange{v2WebChange},
		},
		"v2 whole-reference setters, several images": {
			commit: Commit{Message: "Update images"},
			edits:  []edit{{"apps/web.yaml", deploymentV2, replace(v2Web, "worker:2.0.0", "worker@"+digestA)}},
			gen:    2,
			want: []ImageChange{v2WebChange,
				{Image: "ghcr.io/acme/worker", Field: FieldImage, From: "ghcr.io/acme/worker:2.0.0", To: "ghcr.io/acme/worker@" + digestA,
					File: "apps/web.yaml", Line: 11, Setter: "flux-system:worker", Replaced: "ghcr.io/acme/worker:2.0.0"}},
		},
		"v2 tag setter in a HelmRelease takes the image from the name setter": {
			commit: Commit{Message: "ghcr.io/acme/web:1.4.2"},
			edits:  []edit{{"apps/web.yaml", helmReleaseV2, replace(helmReleaseV2, "tag: 1.4.1", "tag: 1.4.2")}},
			gen:    2,
			want: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "apps/web.yaml", Line: 10,
				Setter: "flux-system:web:tag"}},
		},
		"v2 name setter in a HelmRelease": {
			commit: Commit{Message: "move registry"},
			edits: []edit{{"apps/web.yaml", helmReleaseV2,
				replace(helmReleaseV2, "repository: ghcr.io/acme/web", "repository: registry.example.com:5000/acme/web")}},
			gen: 2,
			want: []ImageChange{{Image: "registry.example.com:5000/acme/web", Field: FieldName, From: "ghcr.io/acme/web",
				To: "registry.example.com:5000/acme/web", File: "apps/web.yaml", Line: 9, Setter: "flux-system:web:name"}},
		},
		"v2 tag and name setters in a kustomization take the entry's name": {
			commit: Commit{Message: "[ci skip] update"},
			edits: []edit{{"kustomization.yaml", kustomizationV2,
				replace(replace(kustomizationV2, "newTag: 1.4.1", "newTag: 1.5.0"), "newName: ghcr.io/acme/web ", "newName: ghcr.io/acme/web2 ")}},
			gen: 2,
			want: []ImageChange{
				{Image: "ghcr.io/acme/web", Field: FieldName, From: "ghcr.io/acme/web", To: "ghcr.io/acme/web2", File: "kustomization.yaml", Line: 7,
					Setter: "flux-system:web:name"},
				{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "kustomization.yaml", Line: 8,
					Setter: "flux-system:web:tag"},
			},
		},
		"v2 digest setter in a kustomization": {
			commit: Commit{Message: "db digest"},
			edits:  []edit{{"kustomization.yaml", kustomizationV2, replace(kustomizationV2, digestA, digestB)}},
			gen:    2,
			want: []ImageChange{{Image: "ghcr.io/acme/db", Field: FieldDigest, From: digestA, To: digestB, File: "kustomization.yaml", Line: 10,
				Setter: "flux-system:db:digest"}},
		},
		"v2 setter in any YAML, quoted": {
			commit: Commit{Message: "bump"},
			edits: []edit{{"config/values.yml", "app:\n  version: \"1.0.0\" # {\"$imagepolicy\": \"apps:app:tag\"}\n",
				"app:\n  version: \"1.0.1\" # {\"$imagepolicy\": \"apps:app:tag\"}\n"}},
			gen:  2,
			want: []ImageChange{{Field: FieldTag, From: "1.0.0", To: "1.0.1", File: "config/values.yml", Line: 2, Setter: "apps:app:tag"}},
		},
		"extra author by login": {
			commit: Commit{Message: "bump web", Author: Identity{Login: "Renovate-Bot"}},
			opts:   Options{Authors: []string{"renovate-bot"}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"extra author by committer email": {
			commit: Commit{Message: "bump web", Committer: Identity{Email: "ci@acme.example"}},
			opts:   Options{Authors: []string{"ci@acme.example"}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"extra message pattern": {
			commit: Commit{Message: "deploy: web 1.4.2"},
			opts:   Options{MessagePatterns: []*regexp.Regexp{regexp.MustCompile(`^deploy: `)}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:    1, want: []ImageChange{webChange},
		},
		"ignored paths are left out of the decision": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2", Files: []File{
				{Path: "docs/releases.md", Status: "modified", Patch: "@@ -1 +1 @@\n-old\n+new"},
				{Path: "docs/logo.png", Status: "modified"},
				{Path: "docs/new.yaml", Status: "added", Patch: "@@ -0,0 +1 @@\n+a: b"},
			}},
			opts:  Options{IgnorePaths: []string{"docs/**"}},
			edits: []edit{{"apps/web.yaml", deploymentV1, webTag}},
			gen:   1, want: []ImageChange{webChange},
		},

		"v1 message but the diff also changes replicas": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, replace(webTag, "replicas: 2", "replicas: 3")}},
			reason: `apps/web.yaml line 7: "replicas" is not an image reference`,
		},
		"bumps a tag and adds a file": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2", Files: []File{
				{Path: "apps/extra.yaml", Status: "added", Patch: "@@ -0,0 +1 @@\n+kind: ConfigMap"}}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "apps/extra.yaml is added",
		},
		"removed file": {
			commit: Commit{Message: "Auto-release x", Files: []File{{Path: "a.yaml", Status: "removed", Patch: "@@ -1 +0,0 @@\n-a: b"}}},
			reason: "a.yaml is removed",
		},
		"renamed file": {
			commit: Commit{Message: "Auto-release x", Files: []File{{Path: "b.yaml", PreviousPath: "a.yaml", Status: "renamed"}}},
			reason: "b.yaml is renamed",
		},
		"a line added next to the tag": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, replace(webTag, "        ports:\n", "        imagePullPolicy: Always\n        ports:\n")}},
			reason: "1 lines removed and 2 added near line 12",
		},
		"a comment changed with the tag": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, replace(deploymentV1, "web:1.4.1", "web:1.4.2 # pinned")}},
			reason: `changes more than the value of "image"`,
		},
		"requoting without a new value": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/api:3.1.0"},
			edits:  []edit{{"apps/api.yaml", helmReleaseV1, replace(helmReleaseV1, `"3.1.0"`, `'3.1.0'`)}},
			reason: `rewrites "tag" without changing its value`,
		},
		"a tag outside any image map": {
			commit: Commit{Message: "Auto-release x"},
			edits:  []edit{{"app.yaml", "metadata:\n  labels:\n    tag: v1\n", "metadata:\n  labels:\n    tag: v2\n"}},
			reason: "a tag outside any visible image map",
		},
		"an image field that is not an image reference": {
			commit: Commit{Message: "Auto-release x"},
			edits:  []edit{{"app.yaml", "image: Not An Image\n", "image: Still Not One\n"}},
			reason: "not image references",
		},
		"merge commit": {
			commit: Commit{Message: "Merge pull request #4", ParentCount: 2},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "merge commit",
		},
		"root commit": {
			commit: Commit{Message: "Auto-release ghcr.io/acme/web:1.4.2"},
			root:   true,
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "root commit",
		},
		"a message that only mentions a release": {
			commit: Commit{Message: "Bump web for the 1.4 release"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "neither a Flux v1 message nor a configured author or message pattern",
		},
		"a message that begins with Release but is no fluxd message": {
			commit: Commit{Message: "Release notes"},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "neither a Flux v1 message",
		},
		"an author that is not configured": {
			commit: Commit{Message: "bump web", Author: Identity{Login: "someone"}},
			opts:   Options{Authors: []string{"renovate-bot"}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "neither a Flux v1 message",
		},
		"patch omitted by GitHub": {
			commit: Commit{Message: "Auto-release x", Files: []File{{Path: "apps/big.yaml", Status: "modified"}}},
			reason: "GitHub omitted the patch of apps/big.yaml",
		},
		"binary file": {
			commit: Commit{Message: "Auto-release x", Files: []File{{Path: "logo.png", Status: "modified"}}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "logo.png is not a YAML file",
		},
		"v2 setter on one line, another line unmarked": {
			commit: Commit{Message: "bump"},
			edits:  []edit{{"apps/web.yaml", deploymentV2, replace(v2Web, "name: worker", "name: worker2")}},
			reason: `apps/web.yaml line 12: "name" is not an image reference`,
		},
		"v2 malformed setter": {
			commit: Commit{Message: "bump"},
			edits: []edit{{"a.yaml", "tag: 1.0.0 # {\"$imagepolicy\": \"web:tags:x\"}\n",
				"tag: 1.0.1 # {\"$imagepolicy\": \"web:tags:x\"}\n"}},
			reason: "malformed $imagepolicy marker",
		},
		"v2 marker with words after it, which Flux does not read": {
			commit: Commit{Message: "bump"},
			edits: []edit{{"a.yaml", "tag: 1.0.0 # {\"$imagepolicy\": \"web:app:tag\"} pinned\n",
				"tag: 1.0.1 # {\"$imagepolicy\": \"web:app:tag\"} pinned\n"}},
			reason: "malformed $imagepolicy marker",
		},
		"only ignored files": {
			commit: Commit{Message: "Auto-release x"},
			opts:   Options{IgnorePaths: []string{"apps/*.yaml"}},
			edits:  []edit{{"apps/web.yaml", deploymentV1, webTag}},
			reason: "changes no image reference outside the ignored paths",
		},
		"no files": {
			commit: Commit{Message: "Auto-release x"},
			reason: "changes no image reference",
		},
		"newline at end of file": {
			commit: Commit{Message: "Auto-release x"},
			edits:  []edit{{"a.yaml", "image: nginx:1.0", "image: nginx:1.1\n"}},
			reason: "changes the newline at the end of the file",
		},
		"malformed patch": {
			commit: Commit{Message: "Auto-release x", Files: []File{{Path: "a.yaml", Status: "modified", Patch: "@@ -1,2 +1,2 @@\n-image: a:1\n+image: a:2"}}},
			reason: "patch of a.yaml: hunk",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := tc.commit
			c.SHA = "0123456789abcdef0123456789abcdef01234567"
			if c.ParentCount == 0 && !tc.root {
				c.ParentCount = 1
			}
			c.Files = append(append([]File(nil), c.Files...), modified(t, tc.edits...)...)
			got, reason := Analyze(c, tc.opts)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("Analyze() = %s, want no release", dump(got))
				}
				if !strings.Contains(reason, tc.reason) {
					t.Fatalf("reason = %q, want it to contain %q", reason, tc.reason)
				}
				if Detect(c, tc.opts) != nil {
					t.Fatal("Detect() found a release that Analyze did not")
				}
				return
			}
			want := &Release{SHA: c.SHA, Generation: tc.gen, Changes: tc.want}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Analyze() = %s (reason %q)\nwant %s", dump(got), reason, dump(want))
			}
			if reason != "" {
				t.Errorf("reason = %q for a release", reason)
			}
			if d := Detect(c, tc.opts); !reflect.DeepEqual(d, want) {
				t.Errorf("Detect() = %s, want the same as Analyze", dump(d))
			}
		})
	}
}

func dump(r *Release) string {
	if r == nil {
		return "nil"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Release{SHA: %s, Generation: %d}", r.SHA, r.Generation)
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "\n  %+v", c)
	}
	return b.String()
}
