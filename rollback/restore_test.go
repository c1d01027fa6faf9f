package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// restoreFixture is a repository on the embedded GitHub with a Flux v1
// kustomization, the web image marked for Flux v2 in two Deployments, and
// Helm values whose tag marker is far from the repository line.
type restoreFixture struct {
	t     *testing.T
	repo  *fakegithub.Repo
	svc   *rollback.Service
	hub   *restoreHub
	clock time.Time
}

const (
	fixtureKustomization = "clusters/prod/kustomization.yaml"
	fixtureWeb           = "apps/web/deployment.yaml"
	fixtureWebCanary     = "apps/web-canary/deployment.yaml"
	fixtureValues        = "apps/api/values.yaml"
	fixtureAPIJS         = "gcr.io/acme/api-js"
)

const fixtureKustomizationText = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- api.yaml
images:
- name: gcr.io/acme/api
  newTag: master-4003aac
- name: gcr.io/acme/api-js
  newTag: master-f01225d
`

func fixtureDeployment(name string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.4.2 # {"$imagepolicy": "flux-system:web"}
`
}

// The tag line is more than three lines below the repository line, so a
// release's diff does not show which image the tag belongs to.
const fixtureValuesText = `image:
  repository: ghcr.io/acme/api
  pullPolicy: IfNotPresent
  # The tag follows the image policy.
  # Keep the marker.
  tag: 3.1.0 # {"$imagepolicy": "flux-system:api:tag"}
`

func newRestoreFixture(t *testing.T, hub *restoreHub, name string) *restoreFixture {
	t.Helper()
	repo, svc := hub.repo(name)
	f := &restoreFixture{t: t, repo: repo, svc: svc, hub: hub, clock: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	f.commit("Add the deploy configuration", genHuman, map[string]string{
		fixtureKustomization: fixtureKustomizationText,
		fixtureWeb:           fixtureDeployment("web"),
		fixtureWebCanary:     fixtureDeployment("web-canary"),
		fixtureValues:        fixtureValuesText,
		"README.md":          "# Deploy\n",
	})
	return f
}

// commit writes files on main, one minute after the previous commit.
func (f *restoreFixture) commit(message string, who fakegithub.Person, files map[string]string) string {
	f.t.Helper()
	f.clock = f.clock.Add(time.Minute)
	who.Date = f.clock
	spec := fakegithub.CommitSpec{Message: message, Author: who, Files: map[string]*fakegithub.File{}}
	for p, c := range files {
		spec.Files[p] = &fakegithub.File{Content: c}
	}
	sha, err := f.repo.Commit("main", spec)
	if err != nil {
		f.t.Fatal(err)
	}
	return sha
}

func (f *restoreFixture) read(rev, p string) string {
	f.t.Helper()
	s, err := f.repo.ReadFile(rev, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// edit rewrites one file on main.
func (f *restoreFixture) edit(message string, who fakegithub.Person, p, old, new string) string {
	f.t.Helper()
	content := f.read("main", p)
	if !strings.Contains(content, old) {
		f.t.Fatalf("%s does not hold %q", p, old)
	}
	return f.commit(message, who, map[string]string{p: strings.Replace(content, old, new, 1)})
}

// releaseAPIJS is fluxd releasing api-js.
func (f *restoreFixture) releaseAPIJS(tag string) string {
	f.t.Helper()
	content := f.read("main", fixtureKustomization)
	i := strings.Index(content, "- name: "+fixtureAPIJS+"\n  newTag: ")
	start := i + len("- name: "+fixtureAPIJS+"\n  newTag: ")
	end := start + strings.IndexByte(content[start:], '\n')
	return f.commit("Auto-release "+fixtureAPIJS+":"+tag+"\n\n[ci skip]", genFluxV1,
		map[string]string{fixtureKustomization: content[:start] + tag + content[end:]})
}

// releaseWeb is Flux's image automation releasing web in both Deployments.
func (f *restoreFixture) releaseWeb(tag string) string {
	f.t.Helper()
	files := map[string]string{}
	for _, p := range []string{fixtureWeb, fixtureWebCanary} {
		content := f.read("main", p)
		i := strings.Index(content, "ghcr.io/acme/web:") + len("ghcr.io/acme/web:")
		end := i + strings.IndexByte(content[i:], ' ')
		files[p] = content[:i] + tag + content[end:]
	}
	return f.commit("Update from image update automation\n", genFluxV2, files)
}

// releaseAPI is Flux's image automation releasing the Helm values' tag.
func (f *restoreFixture) releaseAPI(tag string) string {
	f.t.Helper()
	content := f.read("main", fixtureValues)
	i := strings.Index(content, "  tag: ") + len("  tag: ")
	end := i + strings.IndexByte(content[i:], ' ')
	return f.commit("Update from image update automation\n", genFluxV2, map[string]string{fixtureValues: content[:i] + tag + content[end:]})
}

// writes counts the requests that would change the repository.
func (f *restoreFixture) writes() int {
	n := 0
	for _, r := range f.hub.gh.Requests() {
		if r.Method != "GET" && strings.Contains(r.Path, "/repos/acme/"+f.repo.Name()+"/") {
			n++
		}
	}
	return n
}

func asRefusal(t *testing.T, err error) *rollback.Refusal {
	t.Helper()
	var r *rollback.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("want a refusal, got %v", err)
	}
	return r
}

func TestRestoreMessageListsEveryUndoneRelease(t *testing.T) {
	f := newRestoreFixture(t, newRestoreHub(t), "message")
	release := f.releaseAPIJS("master-26a4b87")
	f.releaseWeb("1.4.3") // another image: not undone
	later1 := f.releaseAPIJS("master-5b6c7d8")
	f.edit("Add a resource", genHuman, fixtureKustomization, "- api.yaml\n", "- api.yaml\n- web.yaml\n")
	later2 := f.releaseAPIJS("master-9c1e2f0")
	head, _ := f.repo.Ref("heads/main")

	out, err := f.svc.Restore(context.Background(), restoreRequest(release))
	if err != nil {
		t.Fatal(err)
	}
	if out.Branch != "rollback-"+release[:7]+"-restore" || out.Existing || out.PullRequest == nil {
		t.Fatalf("outcome %+v", out)
	}
	info, err := f.repo.CommitInfo(out.Branch)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Roll back api-js to master-f01225d\n\n"+
		"Undoes these releases:\n- %s api-js master-26a4b87\n- %s api-js master-5b6c7d8\n- %s api-js master-9c1e2f0\n\n"+
		"This restores the image references changed by commit %s.\n\nRollback-requested-by: @alice\n",
		release[:7], later1[:7], later2[:7], release)
	if info.Message != want {
		t.Errorf("message:\n%s\nwant:\n%s", info.Message, want)
	}
	if got, want := f.read(out.Branch, fixtureKustomization), strings.Replace(f.read(head, fixtureKustomization), "master-9c1e2f0", "master-f01225d", 1); got != want {
		t.Errorf("kustomization:\n%s\nwant:\n%s", got, want)
	}

	prs := f.repo.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("want 1 pull request, got %d", len(prs))
	}
	pr := prs[0]
	if pr.Title != "Roll back api-js to master-f01225d" || pr.Head != out.Branch || pr.Base != "main" {
		t.Errorf("pull request %q %s -> %s", pr.Title, pr.Head, pr.Base)
	}
	for _, want := range []string{
		"| gcr.io/acme/api-js | " + fixtureKustomization + " | master-f01225d |",
		"- " + release[:7] + " api-js master-26a4b87\n- " + later1[:7] + " api-js master-5b6c7d8\n- " + later2[:7] + " api-js master-9c1e2f0\n",
		"fluxctl lock",
	} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("pull request body lacks %q:\n%s", want, pr.Body)
		}
	}
	if strings.Contains(pr.Body, "1.4.3") {
		t.Errorf("pull request body lists another image's release:\n%s", pr.Body)
	}

	// Asked again, the restore answers with the same pull request.
	again, err := f.svc.Restore(context.Background(), restoreRequest(release))
	if err != nil || !again.Existing || again.PullRequest.Number != out.PullRequest.Number {
		t.Errorf("second restore: %+v, %v; want the open pull request", again, err)
	}
	if n := len(f.repo.PullRequests()); n != 1 {
		t.Errorf("%d pull requests after the second restore", n)
	}
}

func TestRestoreOfOnePolicyInTwoFiles(t *testing.T) {
	f := newRestoreFixture(t, newRestoreHub(t), "policy")
	release := f.releaseWeb("1.4.3")
	f.edit("Scale the canary", genHuman, fixtureWebCanary, "replicas: 2", "replicas: 1")
	later := f.releaseWeb("1.5.0")
	head, _ := f.repo.Ref("heads/main")

	// The exact revert conflicts, and the move is reported once, not once
	// per file.
	_, err := f.svc.Revert(context.Background(), restoreRequest(release))
	r := asRefusal(t, err)
	if r.Reason != rollback.ReasonConflict || r.Superseded == nil || len(r.Superseded.Images) != 1 {
		t.Fatalf("revert refusal %+v (superseded %+v)", r, r.Superseded)
	}
	m := r.Superseded.Images[0]
	if m.Image != "ghcr.io/acme/web" || m.Policy != "flux-system:web" || m.Before != "1.4.2" || m.Now != "1.5.0" ||
		len(m.Later) != 1 || m.Later[0].SHA != later || m.Later[0].Date != "2024-05-01T08:04:00Z" {
		t.Errorf("moved image %+v", m)
	}

	out, err := f.svc.Restore(context.Background(), restoreRequest(release))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fixtureWeb, fixtureWebCanary} {
		if got, want := f.read(out.Branch, p), strings.Replace(f.read(head, p), "web:1.5.0 ", "web:1.4.2 ", 1); got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", p, got, want)
		}
	}
	info, _ := f.repo.CommitInfo(out.Branch)
	wantUndone := fmt.Sprintf("Undoes these releases:\n- %s web 1.4.3\n- %s web 1.5.0\n\n", release[:7], later[:7])
	if !strings.HasPrefix(info.Message, "Roll back web to 1.4.2\n\n"+wantUndone) {
		t.Errorf("message:\n%s\nwant it to start with the title and\n%s", info.Message, wantUndone)
	}
	if body := f.repo.PullRequests()[0].Body; !strings.Contains(body, "flux suspend image update") {
		t.Errorf("a Flux v2 restore does not say to suspend the automation:\n%s", body)
	}
}

func TestRestoreNamesAnImageItsReleaseDidNotShow(t *testing.T) {
	f := newRestoreFixture(t, newRestoreHub(t), "unnamed")
	release := f.releaseAPI("3.2.0")
	f.releaseAPI("3.3.0")
	out, err := f.svc.Restore(context.Background(), restoreRequest(release))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.read(out.Branch, fixtureValues); got != fixtureValuesText {
		t.Errorf("values after the restore:\n%s\nwant:\n%s", got, fixtureValuesText)
	}
	pr := f.repo.PullRequests()[0]
	if want := "Roll back the image of policy flux-system:api to 3.1.0"; pr.Title != want {
		t.Errorf("title %q, want %q", pr.Title, want)
	}
	info, _ := f.repo.CommitInfo(out.Branch)
	if !strings.Contains(info.Message, release[:7]+" the image of policy flux-system:api 3.2.0\n") {
		t.Errorf("message does not name the image:\n%s", info.Message)
	}
}

func TestRestoreRefusals(t *testing.T) {
	hub := newRestoreHub(t)
	cases := map[string]struct {
		// setup builds the history and returns the commit to restore.
		setup  func(f *restoreFixture) string
		user   string
		reason rollback.Reason
		detail string // part of the refusal's detail
	}{
		"read-only requester": {
			setup: func(f *restoreFixture) string {
				f.repo.SetPermission("bob", "read")
				return f.releaseAPIJS("master-26a4b87")
			},
			user: "bob", reason: rollback.ReasonPermission, detail: `@bob has the "read" role`,
		},
		"not a release": {
			setup: func(f *restoreFixture) string {
				return f.edit("Scale web", genHuman, fixtureWeb, "replicas: 2", "replicas: 3")
			},
			reason: rollback.ReasonNotARelease, detail: "is not a Flux release commit",
		},
		"images already back": {
			setup: func(f *restoreFixture) string {
				release := f.releaseAPIJS("master-26a4b87")
				f.edit("Go back to the old api-js", genHuman, fixtureKustomization, "master-26a4b87", "master-f01225d")
				return release
			},
			reason: rollback.ReasonNothingToRevert, detail: "api-js is already at master-f01225d on main",
		},
		"marker removed": {
			setup: func(f *restoreFixture) string {
				release := f.releaseWeb("1.4.3")
				f.edit("Stop automating web", genHuman, fixtureWebCanary, ` # {"$imagepolicy": "flux-system:web"}`, "")
				return release
			},
			reason: rollback.ReasonMissingImage, detail: fixtureWebCanary + `: the field marked {"$imagepolicy": "flux-system:web"} is no longer there`,
		},
		"kustomization entry removed": {
			setup: func(f *restoreFixture) string {
				release := f.releaseAPIJS("master-26a4b87")
				f.edit("Drop api-js", genHuman, fixtureKustomization, "- name: gcr.io/acme/api-js\n  newTag: master-26a4b87\n", "")
				return release
			},
			reason: rollback.ReasonMissingImage, detail: fixtureKustomization + ": the tag of image gcr.io/acme/api-js is no longer there",
		},
		"file moved": {
			setup: func(f *restoreFixture) string {
				release := f.releaseWeb("1.4.3")
				content := f.read("main", fixtureWeb)
				f.clock = f.clock.Add(time.Minute)
				who := genHuman
				who.Date = f.clock
				if _, err := f.repo.Commit("main", fakegithub.CommitSpec{Message: "Move web", Author: who, Files: map[string]*fakegithub.File{
					fixtureWeb: nil, "apps/web/v2/deployment.yaml": {Content: content},
				}}); err != nil {
					t.Fatal(err)
				}
				return release
			},
			reason: rollback.ReasonMissingImage, detail: fixtureWeb + " no longer exists on main",
		},
		"branch of someone else": {
			setup: func(f *restoreFixture) string {
				release := f.releaseAPIJS("master-26a4b87")
				f.releaseAPIJS("master-9c1e2f0")
				if err := f.repo.SetRef("refs/heads/rollback-"+release[:7]+"-restore", release); err != nil {
					t.Fatal(err)
				}
				return release
			},
			reason: rollback.ReasonBranchTaken, detail: "rollback-",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newRestoreFixture(t, hub, strings.ReplaceAll(name, " ", "-"))
			sha := tc.setup(f)
			hub.gh.ResetRequests()
			req := restoreRequest(sha)
			req.RequireRelease = false // Restore asks for a release whatever the request says
			if tc.user != "" {
				req.Requester = tc.user
			}
			out, err := f.svc.Restore(context.Background(), req)
			if err == nil {
				t.Fatalf("restored: %+v", out)
			}
			r := asRefusal(t, err)
			if r.Reason != tc.reason || !strings.Contains(r.Detail, tc.detail) {
				t.Errorf("refusal %q: %q; want %q containing %q", r.Reason, r.Detail, tc.reason, tc.detail)
			}
			if len(f.repo.PullRequests()) != 0 {
				t.Error("a refused restore opened a pull request")
			}
			if tc.reason != rollback.ReasonBranchTaken && f.writes() != 0 {
				t.Errorf("a refused restore wrote %d times to GitHub", f.writes())
			}
		})
	}
}

func TestRestoreToATag(t *testing.T) {
	hub := newRestoreHub(t)
	cases := map[string]struct {
		image, tag string
		// want maps files to the replacement the restore makes on the head,
		// or is nil when the restore is refused with reason.
		want   map[string][2]string
		reason rollback.Reason
		detail string
	}{
		"an earlier tag of a kustomization image": {
			image: "api-js", tag: "master-5b6c7d8",
			want: map[string][2]string{fixtureKustomization: {"master-9c1e2f0", "master-5b6c7d8"}},
		},
		"by full name, the tag before every release": {
			image: fixtureAPIJS, tag: "master-f01225d",
			want: map[string][2]string{fixtureKustomization: {"master-9c1e2f0", "master-f01225d"}},
		},
		"one policy in two files": {
			image: "web", tag: "1.4.2",
			want: map[string][2]string{fixtureWeb: {"web:1.4.3 ", "web:1.4.2 "}, fixtureWebCanary: {"web:1.4.3 ", "web:1.4.2 "}},
		},
		"a tag never released": {
			image: "api-js", tag: "master-0000000",
			reason: rollback.ReasonUnknownTag, detail: "gcr.io/acme/api-js was never released with master-0000000; it had: master-9c1e2f0, master-5b6c7d8, master-26a4b87, master-f01225d",
		},
		"an image never released": {
			image: "frontend", tag: "1.0.0",
			reason: rollback.ReasonNotARelease, detail: "no release of frontend",
		},
		"the tag it has": {
			image: "api-js", tag: "master-9c1e2f0",
			reason: rollback.ReasonNothingToRevert, detail: "api-js is already at master-9c1e2f0 on main",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newRestoreFixture(t, hub, "to-"+strings.ReplaceAll(name, " ", "-"))
			f.releaseAPIJS("master-26a4b87")
			f.releaseWeb("1.4.3")
			f.releaseAPIJS("master-5b6c7d8")
			f.edit("Scale web", genHuman, fixtureWeb, "replicas: 2", "replicas: 4")
			source := f.releaseAPIJS("master-9c1e2f0")
			head, _ := f.repo.Ref("heads/main")
			hub.gh.ResetRequests()

			out, err := f.svc.RestoreTo(context.Background(), restoreRequest(""), tc.image, tc.tag)
			if tc.want == nil {
				r := asRefusal(t, err)
				if r.Reason != tc.reason || !strings.Contains(r.Detail, tc.detail) {
					t.Errorf("refusal %q: %q; want %q containing %q", r.Reason, r.Detail, tc.reason, tc.detail)
				}
				if f.writes() != 0 || len(f.repo.PullRequests()) != 0 {
					t.Errorf("a refused restore wrote %d times to GitHub", f.writes())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed := mustChangedPaths(t, f.repo, head, out.Branch); len(changed) != len(tc.want) {
				t.Errorf("the restore changed %v, want %d files", changed, len(tc.want))
			}
			for p, r := range tc.want {
				if got, want := f.read(out.Branch, p), strings.Replace(f.read(head, p), r[0], r[1], 1); got != want {
					t.Errorf("%s:\n%s\nwant:\n%s", p, got, want)
				}
			}
			info, _ := f.repo.CommitInfo(out.Branch)
			short := tc.image[strings.LastIndex(tc.image, "/")+1:]
			if !strings.HasPrefix(info.Message, "Roll back "+short+" to "+tc.tag+"\n\n") ||
				!strings.HasSuffix(info.Message, "Rollback-requested-by: @alice\n") {
				t.Errorf("message %q", info.Message)
			}
			if tc.image == "api-js" && out.Commit.SHA != source {
				t.Errorf("the restore names %s as its source, want the newest release %s", out.Commit.SHA[:7], source[:7])
			}
			again, err := f.svc.RestoreTo(context.Background(), restoreRequest(""), tc.image, tc.tag)
			if err != nil || !again.Existing {
				t.Errorf("repeated: %+v, %v; want the open pull request", again, err)
			}
		})
	}
}

func TestConcurrentRestoresOpenOnePullRequest(t *testing.T) {
	f := newRestoreFixture(t, newRestoreHub(t), "concurrent")
	release := f.releaseAPIJS("master-26a4b87")
	f.releaseAPIJS("master-9c1e2f0")
	const clicks = 4
	outs := make([]*rollback.Outcome, clicks)
	errs := make([]error, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = f.svc.Restore(context.Background(), restoreRequest(release))
		}()
	}
	wg.Wait()
	for i := range clicks {
		if errs[i] != nil || outs[i].PullRequest.Number != outs[0].PullRequest.Number {
			t.Errorf("restore %d: %+v, %v", i, outs[i], errs[i])
		}
	}
	if n := len(f.repo.PullRequests()); n != 1 {
		t.Errorf("%d simultaneous restores opened %d pull requests", clicks, n)
	}
	var branches []string
	for ref := range f.repo.Refs() {
		if strings.HasPrefix(ref, "refs/heads/rollback-") {
			branches = append(branches, ref)
		}
	}
	if len(branches) != 1 {
		t.Errorf("branches %v, want one", branches)
	}
}

// mustChangedPaths lists the paths whose content or mode differ between two
// revisions.
func mustChangedPaths(t *testing.T, repo *fakegithub.Repo, a, b string) []string {
	t.Helper()
	paths, err := repo.ChangedPaths(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}
