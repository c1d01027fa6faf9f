package githubapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// world is the project's in-memory GitHub with the app installed on the
// organisation acme, which has the repository acme/gitops.
type world struct {
	gh *fakegithub.GitHub
	// fail answers 500, as GitHub does on an outage, to requests whose path
	// (without the query) is a key, before they reach the fake.
	fail map[string]bool
}

const installationID = 42

// newWorld creates acme/gitops and the repositories in repos ("owner/name"
// to default branch; "" for a repository the app is not installed on, with
// default branch main), then commits files ("owner/name/path" to content) on
// each repository's default branch.
func newWorld(t *testing.T, repos, files map[string]string) (*world, *github.Client) {
	t.Helper()
	w := &world{gh: fakegithub.New(fakegithub.Options{AppID: 1, AppSlug: "flux-rollback"}), fail: map[string]bool{}}
	w.gh.AddInstallation(installationID, "acme")

	all := map[string]string{"acme/gitops": "main"}
	for name, branch := range repos {
		all[name] = branch
	}
	for full, branch := range all {
		owner, name, _ := strings.Cut(full, "/")
		opts := fakegithub.RepoOptions{DefaultBranch: branch, Installation: installationID}
		if branch == "" {
			opts = fakegithub.RepoOptions{DefaultBranch: "main"}
		}
		repo := w.gh.AddRepo(owner, name, opts)
		commit := map[string]*fakegithub.File{"README.md": {Content: "# " + name + "\n"}}
		for path, content := range files {
			if rest, ok := strings.CutPrefix(path, full+"/"); ok {
				commit[rest] = &fakegithub.File{Content: content}
			}
		}
		if _, err := repo.Commit(repo.DefaultBranch(), fakegithub.CommitSpec{
			Message: "Initial commit",
			Author:  fakegithub.Person{Name: "Octo Cat", Email: "octocat@example.com", Login: "octocat"},
			Files:   commit,
		}); err != nil {
			t.Fatal(err)
		}
	}

	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.fail[r.URL.Path] {
			rw.Header().Set("Content-Type", "application/json; charset=utf-8")
			rw.WriteHeader(http.StatusInternalServerError)
			_, _ = rw.Write([]byte(`{"message":"Server Error","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		w.gh.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.gh.SetBaseURL(srv.URL)

	client := github.NewClient(srv.Client()).WithAuthToken(w.gh.IssueToken(installationID))
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	client.BaseURL = base
	return w, client
}

// requestLog lists the path and query of every request the fake answered.
func (w *world) requestLog() []string {
	var out []string
	for _, r := range w.gh.Requests() {
		out = append(out, r.Path)
	}
	return out
}

const (
	repoFile = "version: 1\nminimum_role: admin\npull_request:\n  labels: [repo]\n"
	orgFile  = "version: 1\nallow_any_commit: true\npull_request:\n  draft: true\n"
)

func TestLoad(t *testing.T) {
	server := repoconfig.DefaultConfig()
	server.PullRequest.Labels = []string{"rollback"}
	server.MinimumRole = "maintain"

	tests := map[string]struct {
		files  map[string]string
		repos  map[string]string
		fail   map[string]bool
		ref    string
		source string
		want   func(*repoconfig.Config) // edits the server defaults into the expected result
		load   string                   // substring of LoadError, when one is expected
		parse  string                   // ParseError, when one is expected
	}{
		"repo file overlays server defaults": {
			files:  map[string]string{"acme/gitops/.github/flux-rollback.yml": repoFile},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			want: func(c *repoconfig.Config) {
				c.MinimumRole = "admin"
				c.PullRequest.Labels = []string{"repo"}
			},
		},
		"repo file wins over org file, which is not merged in": {
			files: map[string]string{
				"acme/gitops/.github/flux-rollback.yml": repoFile,
				"acme/.github/flux-rollback.yml":        orgFile,
			},
			repos:  map[string]string{"acme/.github": "main"},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			want: func(c *repoconfig.Config) {
				c.MinimumRole = "admin"
				c.PullRequest.Labels = []string{"repo"}
			},
		},
		"org file overlays server defaults": {
			files:  map[string]string{"acme/.github/flux-rollback.yml": orgFile},
			repos:  map[string]string{"acme/.github": "trunk"},
			ref:    "main",
			source: "acme/.github/flux-rollback.yml@trunk",
			want: func(c *repoconfig.Config) {
				c.AllowAnyCommit = true
				c.PullRequest.Draft = true
			},
		},
		"no org .github repository gives server defaults": {
			ref:    "main",
			source: repoconfig.SourceServerDefaults,
			want:   func(*repoconfig.Config) {},
		},
		"org file in a .github repository the app cannot see is not read": {
			files:  map[string]string{"acme/.github/flux-rollback.yml": orgFile},
			repos:  map[string]string{"acme/.github": ""},
			ref:    "main",
			source: repoconfig.SourceServerDefaults,
			want:   func(*repoconfig.Config) {},
		},
		"404 in both places gives server defaults": {
			repos:  map[string]string{"acme/.github": "main"},
			ref:    "main",
			source: repoconfig.SourceServerDefaults,
			want:   func(*repoconfig.Config) {},
		},
		"ref left to GitHub": {
			files:  map[string]string{"acme/gitops/.github/flux-rollback.yml": repoFile},
			source: "acme/gitops/.github/flux-rollback.yml",
			want: func(c *repoconfig.Config) {
				c.MinimumRole = "admin"
				c.PullRequest.Labels = []string{"repo"}
			},
		},
		"broken repo file is a parse error, not the org file": {
			files: map[string]string{
				"acme/gitops/.github/flux-rollback.yml": "version: 1\nminimum_rol: admin\n",
				"acme/.github/flux-rollback.yml":        orgFile,
			},
			repos:  map[string]string{"acme/.github": "main"},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			parse:  "line 2: minimum_rol: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request, hold, status_contexts, on_failure",
		},
		"broken org file is a parse error naming it": {
			files:  map[string]string{"acme/.github/flux-rollback.yml": "minimum_role: admin\n"},
			repos:  map[string]string{"acme/.github": "main"},
			ref:    "main",
			source: "acme/.github/flux-rollback.yml@main",
			parse:  "version: missing: add `version: 1` at the top of the file",
		},
		"remote reference is not followed": {
			files: map[string]string{
				"acme/gitops/.github/flux-rollback.yml": "remote: acme/config\n",
				"acme/config/.github/flux-rollback.yml": repoFile,
			},
			repos:  map[string]string{"acme/config": "main"},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			parse: "version: missing: add `version: 1` at the top of the file\n" +
				"line 1: remote: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request, hold, status_contexts, on_failure",
		},
		"500 reading the repo file is a load error": {
			files:  map[string]string{"acme/.github/flux-rollback.yml": orgFile},
			repos:  map[string]string{"acme/.github": "main"},
			fail:   map[string]bool{"/repos/acme/gitops/contents/.github/flux-rollback.yml": true},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			load:   "read configuration acme/gitops/.github/flux-rollback.yml@main: failed to read file: GET ",
		},
		"500 reading the org repository is a load error": {
			fail:   map[string]bool{"/repos/acme/.github": true},
			ref:    "main",
			source: "acme/.github",
			load:   "read configuration acme/.github: failed to get default repository: GET ",
		},
		"500 reading the org file is a load error": {
			repos:  map[string]string{"acme/.github": "main"},
			fail:   map[string]bool{"/repos/acme/.github/contents/flux-rollback.yml": true},
			ref:    "main",
			source: "acme/.github/flux-rollback.yml@main",
			load:   "500 Server Error",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			w, client := newWorld(t, tt.repos, tt.files)
			for path := range tt.fail {
				w.fail[path] = true
			}

			got, err := NewConfigLoader("", server).Load(context.Background(), client, "acme", "gitops", tt.ref)

			if got.Source != tt.source {
				t.Errorf("Source = %q, want %q", got.Source, tt.source)
			}
			if err != got.LoadError {
				t.Errorf("returned error %v is not LoadError %v", err, got.LoadError)
			}
			switch {
			case tt.load != "":
				if got.LoadError == nil || !strings.Contains(got.LoadError.Error(), tt.load) {
					t.Errorf("LoadError = %v, want one containing %q", got.LoadError, tt.load)
				}
				if got.ParseError != nil {
					t.Errorf("ParseError = %v with a LoadError", got.ParseError)
				}
				var ghErr *github.ErrorResponse
				if !errors.As(got.LoadError, &ghErr) || ghErr.Response.StatusCode != http.StatusInternalServerError {
					t.Errorf("LoadError %v does not wrap GitHub's 500", got.LoadError)
				}
			case tt.parse != "":
				if got.ParseError == nil || got.ParseError.Error() != tt.parse {
					t.Errorf("ParseError = %v, want %q", got.ParseError, tt.parse)
				}
				if got.LoadError != nil {
					t.Errorf("LoadError = %v with a ParseError", got.LoadError)
				}
				var fileErr *repoconfig.FileError
				if !errors.As(got.ParseError, &fileErr) || fileErr.Source != tt.source {
					t.Errorf("ParseError is not a *repoconfig.FileError for %s: %#v", tt.source, got.ParseError)
				}
			default:
				if got.LoadError != nil || got.ParseError != nil {
					t.Fatalf("Load() errors: load %v, parse %v", got.LoadError, got.ParseError)
				}
				want := server.Clone()
				tt.want(&want)
				if !reflect.DeepEqual(got.Config, want) {
					t.Errorf("repoconfig.Config =\n%+v\nwant\n%+v", got.Config, want)
				}
			}
			if tt.load != "" || tt.parse != "" {
				if !reflect.DeepEqual(got.Config, repoconfig.Config{}) {
					t.Errorf("repoconfig.Config = %+v with an error, want the zero Config", got.Config)
				}
			}
		})
	}
}

func TestLoadReadsTheRequestedRefAndPath(t *testing.T) {
	w, client := newWorld(t, map[string]string{"acme/.github": "main"}, map[string]string{
		"acme/gitops/config/rollback.yml": "version: 1\nbranch_prefix: main-\n",
	})
	if _, err := w.gh.Repo("acme", "gitops").Commit("release/v2", fakegithub.CommitSpec{
		Message: "Release branch settings",
		Author:  fakegithub.Person{Name: "Octo Cat", Email: "octocat@example.com"},
		Files:   map[string]*fakegithub.File{"config/rollback.yml": {Content: "version: 1\nbranch_prefix: revert-\n"}},
	}); err != nil {
		t.Fatal(err)
	}
	w.gh.ResetRequests()
	loader := NewConfigLoader("config/rollback.yml", repoconfig.DefaultConfig())

	for range 2 {
		got, err := loader.Load(context.Background(), client, "acme", "gitops", "release/v2")
		if err != nil {
			t.Fatalf("Load() = %v", err)
		}
		if got.Config.BranchPrefix != "revert-" || got.Source != "acme/gitops/config/rollback.yml@release/v2" {
			t.Errorf("Load() = %+v", got)
		}
	}

	// The loader keeps no cache of its own: caching belongs to the client.
	want := []string{
		"/repos/acme/gitops/contents/config/rollback.yml?ref=release%2Fv2",
		"/repos/acme/gitops/contents/config/rollback.yml?ref=release%2Fv2",
	}
	if got := w.requestLog(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestLoadOrgFileAtRootOfDotGithub(t *testing.T) {
	w, client := newWorld(t, map[string]string{"acme/.github": "main"}, map[string]string{
		"acme/.github/flux-rollback.yml":         orgFile,
		"acme/.github/.github/flux-rollback.yml": "version: 1\nminimum_role: admin\n",
	})
	w.gh.ResetRequests()

	got, err := NewConfigLoader(repoconfig.DefaultPath, repoconfig.DefaultConfig()).Load(context.Background(), client, "acme", "gitops", "main")
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if !got.Config.AllowAnyCommit || got.Config.MinimumRole != "write" {
		t.Errorf("Load() did not read flux-rollback.yml at the root of acme/.github: %+v", got.Config)
	}
	want := []string{
		"/repos/acme/gitops/contents/.github/flux-rollback.yml?ref=main",
		"/repos/acme/.github",
		"/repos/acme/.github/contents/flux-rollback.yml?ref=main",
	}
	if got := w.requestLog(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestLoadReturnsIndependentCopies(t *testing.T) {
	server := repoconfig.DefaultConfig()
	server.PullRequest.Labels = []string{"rollback"}
	_, client := newWorld(t, nil, nil)
	loader := NewConfigLoader("", server)

	first, err := loader.Load(context.Background(), client, "acme", "gitops", "main")
	if err != nil {
		t.Fatal(err)
	}
	first.Config.PullRequest.Labels[0] = "changed"
	*first.Config.Enabled = false

	second, err := loader.Load(context.Background(), client, "acme", "gitops", "main")
	if err != nil {
		t.Fatal(err)
	}
	if second.Config.PullRequest.Labels[0] != "rollback" || !second.Config.IsEnabled() {
		t.Errorf("a caller's change to one result leaked into the next: %+v", second.Config)
	}
}
