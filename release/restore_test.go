package release

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRestore(t *testing.T) {
	// The head moved on since the release: web is now at 1.4.3.
	headV1 := replace(deploymentV1, "web:1.4.1", "web:1.4.3")
	kustomizeHead := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n" +
		"- name: gcr.io/track-compliance/api\n  newTag: master-4003aac\n" +
		"- name: gcr.io/track-compliance/api-js\n  newTag: master-9c1e2aa # bumped by hand\n"

	cases := map[string]struct {
		content string
		changes []ImageChange
		want    string
		missing *MissingReferenceError // want this error instead
	}{
		"kustomization entry by name": {
			content: kustomizeHead,
			changes: []ImageChange{{Image: "gcr.io/track-compliance/api-js", Field: FieldTag, From: "master-f01225d", To: "master-26a4b87",
				File: "app/bases/kustomization.yaml", Line: 12}},
			want: replace(kustomizeHead, "master-9c1e2aa", "master-f01225d"),
		},
		"image field by image name, other containers untouched": {
			content: headV1,
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 12}},
			want:    deploymentV1,
		},
		"two images of one release": {
			content: replace(replace(deploymentV1, "web:1.4.1", "web:1.4.2"), "worker:2.0.0", "worker:2.1.0"),
			changes: []ImageChange{
				{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 12},
				{Image: "ghcr.io/acme/worker", Field: FieldTag, From: "2.0.0", To: "2.1.0", File: "web.yaml", Line: 16},
			},
			want: deploymentV1,
		},
		"digest inside a whole reference": {
			content: replace(deploymentV1, "web:1.4.1", "web:1.4.1@"+digestC),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldDigest, From: digestA, To: digestB, File: "web.yaml", Line: 12}},
			want:    replace(deploymentV1, "web:1.4.1", "web:1.4.1@"+digestA),
		},
		"whole reference with a new name": {
			content: replace(deploymentV1, "web:1.4.1", "web-ng:1.0.0"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web-ng", Field: FieldImage, From: "ghcr.io/acme/web:1.4.1", To: "ghcr.io/acme/web-ng:1.0.0",
				File: "web.yaml", Line: 12}},
			want: deploymentV1,
		},
		"Helm image map keeps the double quotes": {
			content: replace(helmReleaseV1, `"3.1.0"`, `"3.3.0"`),
			changes: []ImageChange{{Image: "ghcr.io/acme/api", Field: FieldTag, From: "3.1.0", To: "3.2.0", File: "api.yaml", Line: 15}},
			want:    helmReleaseV1,
		},
		"Helm image map with a registry keeps the single quotes": {
			content: "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: '1.25.4'\n",
			changes: []ImageChange{{Image: "docker.io/bitnami/nginx", Field: FieldTag, From: "1.25.3", To: "1.25.4", File: "v.yaml", Line: 4}},
			want:    "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: '1.25.3'\n",
		},
		"Helm whole reference in values": {
			content: replace(helmReleaseV1, "nginx:1.25.3", "nginx:1.25.4"),
			changes: []ImageChange{{Image: "docker.io/library/nginx", Field: FieldTag, From: "1.25.3", To: "1.25.4", File: "api.yaml", Line: 18}},
			want:    helmReleaseV1,
		},
		"v2 whole-reference setter": {
			content: replace(deploymentV2, "web:1.4.1", "web:1.4.5"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 9,
				Setter: "flux-system:web"}},
			want: deploymentV2,
		},
		"v2 tag setter": {
			content: replace(helmReleaseV2, "tag: 1.4.1", "tag: 1.6.0"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "web.yaml", Line: 10,
				Setter: "flux-system:web:tag"}},
			want: helmReleaseV2,
		},
		"v2 name setter": {
			content: replace(kustomizationV2, "newName: ghcr.io/acme/web ", "newName: ghcr.io/acme/web2 "),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldName, From: "ghcr.io/acme/web", To: "ghcr.io/acme/web2",
				File: "kustomization.yaml", Line: 7, Setter: "flux-system:web:name"}},
			want: kustomizationV2,
		},
		"v2 digest setter": {
			content: replace(kustomizationV2, digestA, digestC),
			changes: []ImageChange{{Image: "ghcr.io/acme/db", Field: FieldDigest, From: digestA, To: digestB,
				File: "kustomization.yaml", Line: 10, Setter: "flux-system:db:digest"}},
			want: kustomizationV2,
		},
		"v2 setter in a file that is not valid YAML as a whole": {
			content: "tag: 2.0.0 # {\"$imagepolicy\": \"apps:app:tag\"}\n{{ if .Values.x }}\n",
			changes: []ImageChange{{Field: FieldTag, From: "1.0.0", To: "1.0.1", File: "t.yaml", Line: 1, Setter: "apps:app:tag"}},
			want:    "tag: 1.0.0 # {\"$imagepolicy\": \"apps:app:tag\"}\n{{ if .Values.x }}\n",
		},
		"CRLF line endings stay": {
			content: strings.ReplaceAll(headV1, "\n", "\r\n"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 12}},
			want:    strings.ReplaceAll(deploymentV1, "\n", "\r\n"),
		},
		"CRLF with a setter comment": {
			content: strings.ReplaceAll(replace(helmReleaseV2, "tag: 1.4.1", "tag: 1.6.0"), "\n", "\r\n"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "web.yaml", Line: 10,
				Setter: "flux-system:web:tag"}},
			want: strings.ReplaceAll(helmReleaseV2, "\n", "\r\n"),
		},
		"no final newline": {
			content: "image: nginx:1.2",
			changes: []ImageChange{{Image: "nginx", Field: FieldTag, From: "1.1", To: "1.2", File: "a.yaml", Line: 1}},
			want:    "image: nginx:1.1",
		},
		"the reference still holding the release's value is chosen": {
			content: "a:\n  image: nginx:1.0\nb:\n  image: nginx:1.2\n",
			changes: []ImageChange{{Image: "nginx", Field: FieldTag, From: "1.1", To: "1.2", File: "a.yaml", Line: 2}},
			want:    "a:\n  image: nginx:1.0\nb:\n  image: nginx:1.1\n",
		},
		"a tag whose image the release did not show is found by its line": {
			content: "values:\n  image:\n    tag: 2.0.0\n    pullPolicy: Always\n",
			changes: []ImageChange{{Field: FieldTag, From: "1.0.0", To: "2.0.0", File: "v.yaml", Line: 3}},
			want:    "values:\n  image:\n    tag: 1.0.0\n    pullPolicy: Always\n",
		},
		"setter removed": {
			content: replace(helmReleaseV2, ` # {"$imagepolicy": "flux-system:web:tag"}`, ""),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "web.yaml", Line: 10,
				Setter: "flux-system:web:tag"}},
			missing: &MissingReferenceError{File: "web.yaml", Image: "ghcr.io/acme/web", Wanted: `the field marked {"$imagepolicy": "flux-system:web:tag"}`},
		},
		"setter form changed": {
			content: replace(helmReleaseV2, `flux-system:web:tag`, `flux-system:web`),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "web.yaml", Line: 10,
				Setter: "flux-system:web:tag"}},
			missing: &MissingReferenceError{File: "web.yaml", Image: "ghcr.io/acme/web", Wanted: `the field marked {"$imagepolicy": "flux-system:web:tag"}`},
		},
		"kustomization entry gone": {
			content: "images:\n- name: gcr.io/track-compliance/api\n  newTag: master-4003aac\n",
			changes: []ImageChange{{Image: "gcr.io/track-compliance/api-js", Field: FieldTag, From: "a", To: "b", File: "k.yaml", Line: 12}},
			missing: &MissingReferenceError{File: "k.yaml", Image: "gcr.io/track-compliance/api-js", Wanted: "the tag of image gcr.io/track-compliance/api-js"},
		},
		"kustomization entry without its newTag": {
			content: "images:\n- name: gcr.io/track-compliance/api-js\n  digest: " + digestA + "\n",
			changes: []ImageChange{{Image: "gcr.io/track-compliance/api-js", Field: FieldTag, From: "a", To: "b", File: "k.yaml", Line: 3}},
			missing: &MissingReferenceError{File: "k.yaml", Image: "gcr.io/track-compliance/api-js", Wanted: "the tag of image gcr.io/track-compliance/api-js"},
		},
		"image replaced by another": {
			content: replace(deploymentV1, "ghcr.io/acme/web:1.4.1", "ghcr.io/other/web:1.4.2"),
			changes: []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 12}},
			missing: &MissingReferenceError{File: "web.yaml", Image: "ghcr.io/acme/web", Wanted: "the tag of image ghcr.io/acme/web"},
		},
		"one reference for two changes": {
			content: "image: nginx:1.2\n",
			changes: []ImageChange{
				{Image: "nginx", Field: FieldTag, From: "1.1", To: "1.2", File: "a.yaml", Line: 1},
				{Image: "nginx", Field: FieldTag, From: "1.0", To: "1.1", File: "a.yaml", Line: 3},
			},
			missing: &MissingReferenceError{File: "a.yaml", Image: "nginx", Wanted: "the tag of image nginx"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Restore([]byte(tc.content), tc.changes)
			if tc.missing != nil {
				var missing *MissingReferenceError
				if !errors.As(err, &missing) {
					t.Fatalf("Restore() = %q, %v; want a *MissingReferenceError", got, err)
				}
				if *missing != *tc.missing {
					t.Fatalf("error = %+v, want %+v", *missing, *tc.missing)
				}
				return
			}
			if err != nil {
				t.Fatalf("Restore(): %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("Restore() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestRestoreRefusesChangesOfTwoFiles(t *testing.T) {
	_, err := Restore([]byte("image: a:1\n"), []ImageChange{
		{Image: "a", Field: FieldTag, From: "0", To: "1", File: "x.yaml", Line: 1},
		{Image: "a", Field: FieldTag, From: "0", To: "1", File: "y.yaml", Line: 1},
	})
	if err == nil || !strings.Contains(err.Error(), "x.yaml and y.yaml") {
		t.Fatalf("Restore() error = %v, want one naming both files", err)
	}
}

func TestRestoreReportsInvalidYAML(t *testing.T) {
	_, err := Restore([]byte("image: a:1\n  bad: [\n"), []ImageChange{{Image: "a", Field: FieldTag, From: "0", To: "1", File: "x.yaml", Line: 1}})
	var missing *MissingReferenceError
	if err == nil || errors.As(err, &missing) || !strings.Contains(err.Error(), "x.yaml: parse YAML") {
		t.Fatalf("Restore() error = %v, want a parse error naming the file", err)
	}
}

// TestRestoreUndoesDetectedReleases restores each release on the very file
// it produced: the result must be the file before the release, byte for
// byte, which is what "only the values change" means.
func TestRestoreUndoesDetectedReleases(t *testing.T) {
	cases := map[string]edit{
		"v1 Deployment":            {"web.yaml", deploymentV1, replace(replace(deploymentV1, "web:1.4.1", "web:1.4.2"), "worker:2.0.0", "worker@"+digestA)},
		"v1 HelmRelease":           {"api.yaml", helmReleaseV1, replace(replace(helmReleaseV1, `"3.1.0"`, `"3.2.0"`), "nginx:1.25.3", "nginx:1.26.0")},
		"v1 HelmRelease rename":    {"api.yaml", helmReleaseV1, replace(helmReleaseV1, "repository: ghcr.io/acme/api\n", "repository: ghcr.io/acme/api2\n")},
		"v2 HelmRelease":           {"web.yaml", helmReleaseV2, replace(replace(helmReleaseV2, "tag: 1.4.1", "tag: 1.4.2"), "repository: ghcr.io/acme/web", "repository: ghcr.io/acme/web3")},
		"v2 kustomization":         {"k.yaml", kustomizationV2, replace(replace(kustomizationV2, "newTag: 1.4.1", "newTag: 2.0.0"), digestA, digestB)},
		"v2 Deployment":            {"web.yaml", deploymentV2, replace(replace(deploymentV2, "web:1.4.1", "web:1.4.2"), "worker:2.0.0", "worker:2.0.0@"+digestB)},
		"v1 Deployment with CRLF":  {"web.yaml", strings.ReplaceAll(deploymentV1, "\n", "\r\n"), strings.ReplaceAll(replace(deploymentV1, "web:1.4.1", "web:1.4.2"), "\n", "\r\n")},
		"v2 kustomization in CRLF": {"k.yaml", strings.ReplaceAll(kustomizationV2, "\n", "\r\n"), strings.ReplaceAll(replace(kustomizationV2, digestA, digestC), "\n", "\r\n")},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			r := Detect(Commit{SHA: "c", Message: "Auto-release x", ParentCount: 1, Files: modified(t, e)}, Options{})
			if r == nil {
				t.Fatal("not detected as a release")
			}
			got, err := Restore([]byte(e.new), r.Changes)
			if err != nil {
				t.Fatalf("Restore(): %v", err)
			}
			if string(got) != e.old {
				t.Fatalf("Restore() =\n%q\nwant the file before the release\n%q", got, e.old)
			}
		})
	}
}

// TestRestoreOfAMovedImage restores releases whose image moved to another
// registry since: a whole reference goes back to what ran before the
// release, old name included, and says so; a tag alone goes back alone.
func TestRestoreOfAMovedImage(t *testing.T) {
	const (
		oldName = "gcr.io/track-compliance/frontend"
		newName = "northamerica-northeast1-docker.pkg.dev/track-compliance/tracker/frontend"
		marker  = ` # {"$imagepolicy": "flux-system:frontend"}`
	)
	deployment := func(ref string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: frontend\n        image: " + ref + marker + "\n"
	}
	values := func(repo, tag string) string {
		return "image:\n  repository: " + repo + ` # {"$imagepolicy": "flux-system:frontend:name"}` + "\n  tag: " + tag + ` # {"$imagepolicy": "flux-system:frontend:tag"}` + "\n"
	}
	cases := map[string]struct {
		release     edit   // the release, as detection saw it
		head        string // the file on the head
		want        string
		wantRenamed []Renamed
	}{
		"whole-reference marker, moved since": {
			release:     edit{"frontend.yaml", deployment(oldName + ":master-1111111"), deployment(oldName + ":master-2222222")},
			head:        deployment(newName + ":master-3333333"),
			want:        deployment(oldName + ":master-1111111"),
			wantRenamed: []Renamed{{File: "frontend.yaml", Line: 8, Now: newName + ":master-3333333", Restored: oldName + ":master-1111111"}},
		},
		"whole-reference marker, same name since": {
			release: edit{"frontend.yaml", deployment(oldName + ":master-1111111"), deployment(oldName + ":master-2222222")},
			head:    deployment(oldName + ":master-3333333"),
			want:    deployment(oldName + ":master-1111111"),
		},
		"whole-reference marker, the digest the release replaced comes back with its tag": {
			release: edit{"frontend.yaml", deployment(oldName + ":master-1111111@" + digestA), deployment(oldName + ":master-2222222@" + digestA)},
			head:    deployment(newName + ":master-2222222@" + digestB),
			want:    deployment(oldName + ":master-1111111@" + digestA),
			wantRenamed: []Renamed{{File: "frontend.yaml", Line: 8, Now: newName + ":master-2222222@" + digestB,
				Restored: oldName + ":master-1111111@" + digestA}},
		},
		"tag marker, the name moved since: the tag alone goes back": {
			release: edit{"values.yaml", values(oldName, "master-1111111"), values(oldName, "master-2222222")},
			head:    values(newName, "master-3333333"),
			want:    values(newName, "master-1111111"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Detect(Commit{SHA: "c", Message: "Update frontend", ParentCount: 1, Files: modified(t, tc.release)}, Options{})
			if r == nil {
				t.Fatal("not detected as a release")
			}
			got, err := RestoreFile([]byte(tc.head), r.Changes)
			if err != nil {
				t.Fatalf("RestoreFile(): %v", err)
			}
			if string(got.Content) != tc.want {
				t.Errorf("RestoreFile() =\n%s\nwant\n%s", got.Content, tc.want)
			}
			if !slices.Equal(got.Renamed, tc.wantRenamed) {
				t.Errorf("Renamed = %+v, want %+v", got.Renamed, tc.wantRenamed)
			}
		})
	}
}
