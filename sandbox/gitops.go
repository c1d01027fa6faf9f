package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

// Paths of the sample GitOps repository.
const (
	KustomizationPath = "app/bases/kustomization.yaml"
	DeploymentPath    = "apps/web/deployment.yaml"
)

// Identities that commit to the sample repository.
var (
	FluxV1 = fakegithub.Person{Name: "Weave Flux", Email: "support@weave.works", Login: "fluxcd"}
	FluxV2 = fakegithub.Person{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com", Login: "fluxcdbot"}
	Human  = fakegithub.Person{Name: "Alice Example", Email: "alice@example.com", Login: "alice"}
)

// SampleKustomization is a Flux v1 repository's kustomization listing
// several images, as fluxd releases them.
const SampleKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- api.yaml
- api-js.yaml
- frontend.yaml
images:
- name: gcr.io/track-compliance/api
  newTag: master-4003aac
- name: gcr.io/track-compliance/api-js
  newTag: master-f01225d
- name: gcr.io/track-compliance/frontend
  newTag: master-1c2d3e4
`

// SampleDeployment is a Flux v2 Deployment whose image carries an image
// policy setter marker.
const SampleDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.4.2 # {"$imagepolicy": "flux-system:web"}
        ports:
        - containerPort: 8080
`

// GitOpsRepo is a sample GitOps repository on the embedded GitHub.
type GitOpsRepo struct {
	*fakegithub.Repo
}

// AddGitOpsRepo creates owner/name, installs the App on it (creating the
// installation if needed), gives alice write access, and commits the sample
// files as a person would. It sends no webhook.
func (s *Sandbox) AddGitOpsRepo(installationID int64, owner, name string) (*GitOpsRepo, error) {
	if !s.installations[installationID] {
		s.GitHub.AddInstallation(installationID, owner)
		s.installations[installationID] = true
	}
	repo := s.GitHub.AddRepo(owner, name, fakegithub.RepoOptions{DefaultBranch: "main", Installation: installationID})
	repo.SetPermission(Human.Login, "write")
	_, err := repo.Commit("main", fakegithub.CommitSpec{
		Message: "Add the deploy configuration",
		Author:  Human,
		Files: map[string]*fakegithub.File{
			KustomizationPath:  {Content: SampleKustomization},
			DeploymentPath:     {Content: SampleDeployment},
			"README.md":        {Content: "# Deploy configuration\n"},
			"scripts/check.sh": {Content: "#!/bin/sh\nkubectl kustomize app/bases >/dev/null\n", Mode: "100755"},
		},
	})
	if err != nil {
		return nil, err
	}
	return &GitOpsRepo{Repo: repo}, nil
}

// newTagLine finds the newTag line of a kustomization images: entry.
func newTagLine(image string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(- name: ` + regexp.QuoteMeta(image) + `\n  newTag: )(\S+)$`)
}

// ReleaseV1 commits what fluxd commits when it releases image:tag through
// the kustomization, and pushes it. It returns the release commit.
func (r *GitOpsRepo) ReleaseV1(ctx context.Context, image, tag string) (string, error) {
	content, err := r.ReadFile("main", KustomizationPath)
	if err != nil {
		return "", err
	}
	re := newTagLine(image)
	if !re.MatchString(content) {
		return "", fmt.Errorf("release %s: no images: entry for it in %s", image, KustomizationPath)
	}
	updated := re.ReplaceAllString(content, "${1}"+tag)
	sha, _, err := r.CommitAndPush(ctx, "main", fakegithub.CommitSpec{
		Message: fmt.Sprintf("Auto-release %s:%s\n\n[ci skip]", image, tag),
		Author:  FluxV1,
		Files:   map[string]*fakegithub.File{KustomizationPath: {Content: updated}},
	})
	return sha, err
}

// webImage matches the Flux v2 managed image reference of the Deployment.
var webImage = regexp.MustCompile(`(image: ghcr\.io/acme/web:)(\S+)( # \{"\$imagepolicy": "flux-system:web"\})`)

// ReleaseV2 commits what Flux's image automation commits when it updates the
// web Deployment to tag, and pushes it.
func (r *GitOpsRepo) ReleaseV2(ctx context.Context, tag string) (string, error) {
	content, err := r.ReadFile("main", DeploymentPath)
	if err != nil {
		return "", err
	}
	updated := webImage.ReplaceAllString(content, "${1}"+tag+"${3}")
	sha, _, err := r.CommitAndPush(ctx, "main", fakegithub.CommitSpec{
		Message: "Update from image update automation\n\nAutomation name: flux-system/web\n\nFiles:\n- " + DeploymentPath + "\n",
		Author:  FluxV2,
		Files:   map[string]*fakegithub.File{DeploymentPath: {Content: updated}},
	})
	return sha, err
}

// EditByHand commits a person's change to a file and pushes it.
func (r *GitOpsRepo) EditByHand(ctx context.Context, path, message string, edit func(string) string) (string, error) {
	content, err := r.ReadFile("main", path)
	if err != nil && !strings.Contains(err.Error(), "not found") && !strings.Contains(err.Error(), "no such") {
		return "", err
	}
	sha, _, err := r.CommitAndPush(ctx, "main", fakegithub.CommitSpec{
		Message: message,
		Author:  Human,
		Files:   map[string]*fakegithub.File{path: {Content: edit(content)}},
	})
	return sha, err
}

// Paths of the sample Flux v2 repository, laid out as canada-ca/tracker's:
// one image policy marks the api image in a Deployment (the whole
// reference) and in the production kustomization (its tag).
const (
	APIDeploymentPath    = "k8s/apps/bases/api/deployment.yaml"
	APIKustomizationPath = "k8s/clusters/production/kustomization.yaml"
)

// APIImage is the image the sample Flux v2 repository releases.
const APIImage = "gcr.io/track-compliance/api-js"

// SampleAPIDeployment is a Deployment whose image a Flux v2 image policy
// sets.
const SampleAPIDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: gcr.io/track-compliance/api-js:master-f01225d # {"$imagepolicy": "flux-system:api"}
        ports:
        - containerPort: 4000
`

// SampleAPIKustomization pins the same image's tag for production, with
// the same policy's tag marker.
const SampleAPIKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../apps/bases/api
images:
- name: gcr.io/track-compliance/api-js
  newTag: master-f01225d # {"$imagepolicy": "flux-system:api:tag"}
`

// AddFluxV2Repo creates owner/name like AddGitOpsRepo, with the Flux v2
// sample files (APIDeploymentPath, APIKustomizationPath) beside the others.
func (s *Sandbox) AddFluxV2Repo(installationID int64, owner, name string) (*GitOpsRepo, error) {
	repo, err := s.AddGitOpsRepo(installationID, owner, name)
	if err != nil {
		return nil, err
	}
	_, err = repo.Commit("main", fakegithub.CommitSpec{
		Message: "Deploy the api with Flux's image automation",
		Author:  Human,
		Files: map[string]*fakegithub.File{
			APIDeploymentPath:    {Content: SampleAPIDeployment},
			APIKustomizationPath: {Content: SampleAPIKustomization},
		},
	})
	return repo, err
}

// ReleasePolicy commits what Flux's image automation commits when the image
// policy (namespace:name) selects a new image: on every line of the
// repository that carries the policy's marker, in any form, from becomes
// to. It pushes the commit and returns it.
func (r *GitOpsRepo) ReleasePolicy(ctx context.Context, policy, from, to string) (string, error) {
	files, err := r.ReadTree("main")
	if err != nil {
		return "", err
	}
	marker := regexp.MustCompile(`"\$imagepolicy": "` + regexp.QuoteMeta(policy) + `(:(tag|name|digest))?"`)
	changed := map[string]*fakegithub.File{}
	var paths []string
	for p, f := range files {
		lines := strings.SplitAfter(f.Content, "\n")
		touched := false
		for i, l := range lines {
			if marker.MatchString(l) && strings.Contains(l, from) {
				lines[i] = strings.Replace(l, from, to, 1)
				touched = true
			}
		}
		if touched {
			changed[p] = &fakegithub.File{Content: strings.Join(lines, ""), Mode: f.Mode}
			paths = append(paths, p)
		}
	}
	if len(changed) == 0 {
		return "", fmt.Errorf("release %s: no line marked by it holds %s", policy, from)
	}
	slices.Sort(paths)
	sha, _, err := r.CommitAndPush(ctx, "main", fakegithub.CommitSpec{
		Message: "Update from image update automation\n\nAutomation name: flux-system/flux-system\n\nFiles:\n- " + strings.Join(paths, "\n- ") + "\n",
		Author:  FluxV2,
		Files:   changed,
	})
	return sha, err
}
