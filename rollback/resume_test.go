package rollback

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/revert"
)

// tinyHub is a repository, its pull requests and its hold records in
// memory: the ports a resume needs, with counters.
type tinyHub struct {
	files    map[string]string // the branch head's files
	role     string
	branches map[string]string // branch -> its head commit's message
	open     map[string]int    // branch -> open pull request
	merged   map[string]int    // branch -> merged pull request
	listLag  int               // lookups that do not list an open pull request yet
	records  []HoldPullRequest
	commits  map[string]string // commit -> message
	trees    map[string][]revert.Change
	reads    int
	writes   int
	opened   []NewPullRequest
}

func newTinyHub(files map[string]string) *tinyHub {
	return &tinyHub{files: files, role: "write", branches: map[string]string{}, open: map[string]int{}, merged: map[string]int{},
		commits: map[string]string{}, trees: map[string][]revert.Change{}}
}

func (h *tinyHub) Dir(_ context.Context, commit, dir string) (map[string]revert.Entry, error) {
	h.reads++
	out := map[string]revert.Entry{}
	for p := range h.files {
		if d, name := path.Split(p); strings.TrimSuffix(d, "/") == dir {
			out[name] = revert.Entry{Mode: "100644", SHA: "blob:" + p}
		}
	}
	return out, nil
}

func (h *tinyHub) Blob(_ context.Context, sha string) ([]byte, error) {
	h.reads++
	return []byte(h.files[strings.TrimPrefix(sha, "blob:")]), nil
}

func (h *tinyHub) Commit(context.Context, string) (*Commit, error) { return nil, ErrNotFound }

func (h *tinyHub) Head(context.Context, string, string) (*Head, error) {
	h.reads++
	return &Head{SHA: "head", Tree: "tree", Contains: true}, nil
}

func (h *tinyHub) CommitTree(context.Context, string) (string, error) {
	h.reads++
	return "", errors.New("tinyHub has no commits")
}

func (h *tinyHub) Role(context.Context, string) (string, error) { return h.role, nil }

func (h *tinyHub) CreateTree(_ context.Context, base string, changes []revert.Change) (string, error) {
	h.writes++
	sha := fmt.Sprintf("tree%d", len(h.trees))
	h.trees[sha] = changes
	return sha, nil
}

func (h *tinyHub) CreateCommit(_ context.Context, message, tree string, parents []string) (string, error) {
	h.writes++
	sha := fmt.Sprintf("commit%d", len(h.commits))
	h.commits[sha] = message
	return sha, nil
}

func (h *tinyHub) CreateBranch(_ context.Context, name, sha string) error {
	if _, ok := h.branches[name]; ok {
		return ErrBranchExists
	}
	h.writes++
	h.branches[name] = h.commits[sha]
	return nil
}

func (h *tinyHub) BranchCommit(_ context.Context, name string) (*Commit, error) {
	c := &Commit{}
	c.Message = h.branches[name]
	return c, nil
}

func (h *tinyHub) Open(_ context.Context, pr NewPullRequest) (*PullRequest, error) {
	if _, ok := h.open[pr.Head]; ok {
		return nil, ErrPullRequestExists
	}
	h.writes++
	h.opened = append(h.opened, pr)
	h.open[pr.Head] = 40 + len(h.opened)
	return &PullRequest{Number: h.open[pr.Head]}, nil
}

func (h *tinyHub) FindOpen(_ context.Context, head, base string) (*PullRequest, error) {
	if h.listLag > 0 {
		h.listLag--
		return nil, nil
	}
	if n, ok := h.open[head]; ok {
		return &PullRequest{Number: n}, nil
	}
	return nil, nil
}

func (h *tinyHub) AnyFrom(_ context.Context, head, base string) (*PullRequest, error) {
	h.reads++
	if n, ok := h.open[head]; ok {
		return &PullRequest{Number: n}, nil
	}
	if n, ok := h.merged[head]; ok {
		return &PullRequest{Number: n, Merged: true}, nil
	}
	return nil, nil
}

func (h *tinyHub) Decorate(context.Context, int, []string, []string, []string) error { return nil }

func (h *tinyHub) MergedHolds(context.Context, int) ([]HoldPullRequest, error) {
	h.reads++
	return h.records, nil
}

func (h *tinyHub) service() *Service {
	return &Service{Repo: h, Permissions: h, Writer: h, Pulls: h, Holds: h}
}

const (
	tinyFile     = "apps/api/deployment.yaml"
	tinyOriginal = "spec:\n  image: ghcr.io/acme/api:1.4.2 # {\"$imagepolicy\": \"flux-system:api\"}\n  replicas: 2\n"
)

// tinyHeld is tinyOriginal with its marker held for release d4cc490, and
// the record its pull request carries.
func tinyHeld(t *testing.T) (string, HoldPullRequest) {
	t.Helper()
	held, holds := hold.Hold([]byte(tinyOriginal), []int{2}, "d4cc490")
	if len(holds) != 1 {
		t.Fatalf("hold.Hold held %+v", holds)
	}
	h := &Hold{Release: "d4cc490", Requester: "alice",
		Held: []HeldReference{{File: tinyFile, Image: "ghcr.io/acme/api", Held: holds[0]}}}
	return string(held), HoldPullRequest{Number: 7, URL: "https://github.com/acme/deploy/pull/7", Body: "Rolls back.\n\n" + h.record("d4cc490", "alice")}
}

// TestResumeIsIdempotentAndRefusesVisibly plays the branches of a resume
// over tiny ports: what it writes, reuses and refuses.
func TestResumeIsIdempotentAndRefusesVisibly(t *testing.T) {
	held, record := tinyHeld(t)
	const branch = "rollback-d4cc490-resume"
	marker := resumeMarker([]string{"flux-system:api"}, []string{"d4cc490"})
	cases := map[string]struct {
		setup      func(h *tinyHub)
		image      string
		wantReason Reason
		wantDetail string
		wantNew    bool // a pull request opened by this request
		wantOld    bool // the pull request an earlier request opened
		wantReads  int  // -1: any
	}{
		"a held image gets its pull request": {image: "api", wantNew: true, wantReads: -1},
		"named by its policy":                {image: "flux-system:api", wantNew: true, wantReads: -1},
		"a second request reports the open pull request": {
			setup:   func(h *tinyHub) { h.branches[branch] = "Resume\n\n" + marker + "\n"; h.open[branch] = 41 },
			image:   "api",
			wantOld: true, wantReads: -1,
		},
		"another replica's pull request, listed a moment later": {
			setup:   func(h *tinyHub) { h.open[branch] = 41; h.listLag = 1 },
			image:   "api",
			wantOld: true, wantReads: -1,
		},
		"a crash between branch and pull request is finished": {
			setup:   func(h *tinyHub) { h.branches[branch] = "Resume\n\n" + marker + "\n" },
			image:   "api",
			wantNew: true, wantReads: -1,
		},
		"someone else's branch is not taken over": {
			setup:      func(h *tinyHub) { h.branches[branch] = "Something else\n" },
			image:      "api",
			wantReason: ReasonBranchTaken, wantDetail: branch, wantReads: -1,
		},
		"merged already, with the resume still open": {
			setup:   func(h *tinyHub) { h.files[tinyFile] = tinyOriginal; h.open[branch] = 41 },
			image:   "api",
			wantOld: true, wantReads: -1,
		},
		"nothing held": {
			setup:      func(h *tinyHub) { h.files[tinyFile] = tinyOriginal },
			image:      "api",
			wantReason: ReasonNotHeld, wantDetail: "no image is held on main", wantReads: -1,
		},
		"resumed already": {
			setup:      func(h *tinyHub) { h.files[tinyFile] = tinyOriginal; h.merged[branch] = 42 },
			image:      "api",
			wantReason: ReasonNotHeld, wantDetail: "api was resumed already: its resume pull request was merged, and nothing holds it on main any more", wantReads: -1,
		},
		"resumed already, named by its policy": {
			setup:      func(h *tinyHub) { h.files[tinyFile] = tinyOriginal; h.merged[branch] = 42 },
			image:      "flux-system:api",
			wantReason: ReasonNotHeld, wantDetail: "flux-system:api was resumed already", wantReads: -1,
		},
		"another image is not held": {
			image:      "web",
			wantReason: ReasonNotHeld, wantDetail: "web is not held on main; held: api", wantReads: -1,
		},
		"another image is not held, while the resume of api is open": {
			setup:      func(h *tinyHub) { h.open[branch] = 41 },
			image:      "web",
			wantReason: ReasonNotHeld, wantDetail: "web is not held on main; held: api", wantReads: -1,
		},
		"a held line edited by hand": {
			setup: func(h *tinyHub) {
				h.files[tinyFile] = strings.Replace(h.files[tinyFile], "api:1.4.2", "api:1.4.3-hotfix", 1)
			},
			image:      "api",
			wantReason: ReasonHoldEdited, wantDetail: tinyFile + ":2 was changed since api held it: it holds ghcr.io/acme/api:1.4.3-hotfix now, not ghcr.io/acme/api:1.4.2", wantReads: -1,
		},
		"a read-only user reads nothing": {
			setup:      func(h *tinyHub) { h.role = "read" },
			image:      "api",
			wantReason: ReasonPermission, wantDetail: "@bob", wantReads: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newTinyHub(map[string]string{tinyFile: held, "apps/api/service.yaml": "kind: Service\n"})
			h.records = []HoldPullRequest{record}
			if tc.setup != nil {
				tc.setup(h)
			}
			req := ResumeRequest{Branch: "main", Requester: "bob", Config: repoconfig.DefaultConfig()}
			if strings.Contains(tc.image, ":") {
				req.Policy = tc.image
			} else {
				req.Image = tc.image
			}
			out, err := h.service().Resume(context.Background(), req)
			if tc.wantReads >= 0 && h.reads != tc.wantReads {
				t.Errorf("%d reads, want %d", h.reads, tc.wantReads)
			}
			if tc.wantReason != "" {
				r, ok := err.(*Refusal)
				if !ok || r.Reason != tc.wantReason || !strings.Contains(r.Detail, tc.wantDetail) {
					t.Fatalf("got %+v, %v; want a %q refusal saying %q", out, err, tc.wantReason, tc.wantDetail)
				}
				if resumed := strings.Contains(tc.wantDetail, "resumed already"); resumed != (r.Resumed != nil) || resumed && r.Resumed.Number != 42 {
					t.Errorf("the refusal names the resume pull request %+v", r.Resumed)
				}
				if len(h.opened) != 0 {
					t.Errorf("a refused resume opened %+v", h.opened)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Branch != branch || out.Existing != tc.wantOld || (len(h.opened) == 1) != tc.wantNew {
				t.Fatalf("outcome %+v, opened %d; want new %v, existing %v", out, len(h.opened), tc.wantNew, tc.wantOld)
			}
			if tc.wantNew {
				changes := h.trees["tree0"]
				if len(changes) != 1 || changes[0].Path != tinyFile || string(changes[0].Content) != tinyOriginal {
					t.Errorf("the resume writes %+v, want %s back to its original", changes, tinyFile)
				}
				if msg := h.commits["commit0"]; !strings.Contains(msg, marker) {
					t.Errorf("the resume commit does not carry its marker: %q", msg)
				}
				if pr := h.opened[0]; pr.Title != "Resume Flux image automation for api" || !strings.Contains(pr.Body, "#7") {
					t.Errorf("pull request %+v", pr)
				}
			}
		})
	}
}

func TestChangedLines(t *testing.T) {
	tests := map[string]struct {
		before, after string
		want          []int
	}{
		"one line":                  {"a\nb\nc\n", "a\nB\nc\n", []int{2}},
		"two apart":                 {"a\nb\nc\nd\n", "A\nb\nc\nD\n", []int{1, 4}},
		"an inserted line":          {"a\nc\n", "a\nb\nc\n", []int{2}},
		"a removed line":            {"a\nb\nc\n", "a\nc\n", nil},
		"a new file":                {"", "a\nb\n", []int{1, 2}},
		"no newline at the end":     {"a\nb", "a\nB", []int{2}},
		"equal":                     {"a\nb\n", "a\nb\n", nil},
		"repeated lines":            {"x\nx\nx\n", "x\ny\nx\n", []int{2}},
		"a line moved up":           {"a\nb\nc\n", "c\na\nb\n", []int{1}},
		"changes at both ends":      {"a\nb\nc\n", "A\nb\nC\n", []int{1, 3}},
		"everything changed":        {"a\nb\n", "c\nd\n", []int{1, 2}},
		"one side empty, other not": {"a\n", "", nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var before []byte
			if tt.before != "" {
				before = []byte(tt.before)
			}
			if got := changedLines(before, []byte(tt.after)); !slices.Equal(got, tt.want) {
				t.Errorf("changedLines = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestManualLocks(t *testing.T) {
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: tracker\nimages:\n- name: gcr.io/acme/api\n  newTag: 1.0\n"
	patch := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: gcr.io/acme/web:1.0\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec: {}\n"
	tests := map[string]struct {
		file, content string
		lines         []int
		want          []string
	}{
		"kustomization images: only the namespace is known": {"deploy/kustomization.yaml", kustomization, []int{6}, []string{"tracker:<kind>/<name>"}},
		"a patch file names its workload":                   {"deploy/.flux.yaml", patch, []int{11}, []string{"apps:deployment/web"}},
		"the second document":                               {"deploy/flux-patch.yaml", patch, []int{15}, []string{"<namespace>:statefulset/db"}},
		"two documents":                                     {"deploy/flux-patch.yaml", patch, []int{11, 16}, []string{"apps:deployment/web", "<namespace>:statefulset/db"}},
		"a file that does not parse":                        {"deploy/x.yaml", "a: [\n", []int{1}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			targets := []release.ImageChange{{Image: "gcr.io/acme/api", File: tt.file, Line: 6}}
			for _, m := range manualLocks(tt.file, []byte(tt.content), tt.lines, targets) {
				got = append(got, m.Workload())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("workloads %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHoldRecordRoundTrip(t *testing.T) {
	_, record := tinyHeld(t)
	r, ok := parseHoldRecord(record.Body)
	if !ok || r.Release != "d4cc490" || r.Requester != "alice" || len(r.Lines) != 1 {
		t.Fatalf("record %+v, %v", r, ok)
	}
	l := r.Lines[0]
	if l.File != tinyFile || l.Line != 2 || l.Policy != "flux-system:api" || l.Value != "ghcr.io/acme/api:1.4.2" || l.Image != "ghcr.io/acme/api" {
		t.Errorf("line %+v", l)
	}
	// A path that would close the comment early is escaped.
	h := &Hold{Held: []HeldReference{{File: "a-->b.yaml"}}}
	if rec := h.record("d4cc490", "alice"); strings.Count(rec, "-->") != 1 {
		t.Errorf("record %q closes early", rec)
	}
	if _, ok := parseHoldRecord("no record here"); ok {
		t.Error("a body without a record parsed")
	}
}
