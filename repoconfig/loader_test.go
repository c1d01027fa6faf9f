package repoconfig

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v57/github"
)

// contentsServer answers the two GitHub endpoints the loader reads, shaped as
// GitHub answers them: GET /repos/{owner}/{repo} and
// GET /repos/{owner}/{repo}/contents/{path}?ref=.
type contentsServer struct {
	// files by "owner/repo/path"; repos lists "owner/repo" that exist with
	// their default branch.
	files map[string]string
	repos map[string]string
	// fail answers 500 to requests whose path (without query) is a key.
	fail map[string]bool

	mu       sync.Mutex
	requests []string // "path?query" of every request, in order
}

func (s *contentsServer) start(t *testing.T) *github.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		full := r.PathValue("owner") + "/" + r.PathValue("repo")
		branch, ok := s.repos[full]
		if !ok {
			notFound(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": r.PathValue("repo"), "full_name": full, "default_branch": branch})
	})
	mux.HandleFunc("GET /repos/{owner}/{repo}/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		p := r.PathValue("path")
		content, ok := s.files[r.PathValue("owner")+"/"+r.PathValue("repo")+"/"+p]
		if !ok {
			notFound(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"type":     "file",
			"encoding": "base64",
			"size":     len(content),
			"name":     p[strings.LastIndex(p, "/")+1:],
			"path":     p,
			"sha":      "3d21ec53a331a6f037a91c368710b99387d012c1",
			"content":  base64.StdEncoding.EncodeToString([]byte(content)),
		})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		s.mu.Unlock()
		if s.fail[r.URL.Path] {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "Server Error"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	client := github.NewClient(srv.Client())
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	client.BaseURL = base
	return client
}

func (s *contentsServer) requestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const (
	repoFile = "version: 1\nminimum_role: admin\npull_request:\n  labels: [repo]\n"
	orgFile  = "version: 1\nallow_any_commit: true\npull_request:\n  draft: true\n"
)

func TestLoad(t *testing.T) {
	server := DefaultConfig()
	server.PullRequest.Labels = []string{"rollback"}
	server.MinimumRole = "maintain"

	tests := map[string]struct {
		files  map[string]string
		repos  map[string]string
		fail   map[string]bool
		ref    string
		source string
		want   func(*Config) // edits the server defaults into the expected result
		load   string        // substring of LoadError, when one is expected
		parse  string        // ParseError, when one is expected
	}{
		"repo file overlays server defaults": {
			files:  map[string]string{"acme/gitops/.github/flux-rollback.yml": repoFile},
			ref:    "main",
			source: "acme/gitops/.github/flux-rollback.yml@main",
			want: func(c *Config) {
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
			want: func(c *Config) {
				c.MinimumRole = "admin"
				c.PullRequest.Labels = []string{"repo"}
			},
		},
		"org file overlays server defaults": {
			files:  map[string]string{"acme/.github/flux-rollback.yml": orgFile},
			repos:  map[string]string{"acme/.github": "trunk"},
			ref:    "main",
			source: "acme/.github/flux-rollback.yml@trunk",
			want: func(c *Config) {
				c.AllowAnyCommit = true
				c.PullRequest.Draft = true
			},
		},
		"no org .github repository gives server defaults": {
			ref:    "main",
			source: SourceServerDefaults,
			want:   func(*Config) {},
		},
		"404 in both places gives server defaults": {
			repos:  map[string]string{"acme/.github": "main"},
			ref:    "main",
			source: SourceServerDefaults,
			want:   func(*Config) {},
		},
		"ref left to GitHub": {
			files:  map[string]string{"acme/gitops/.github/flux-rollback.yml": repoFile},
			source: "acme/gitops/.github/flux-rollback.yml",
			want: func(c *Config) {
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
			parse:  "line 2: minimum_rol: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request",
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
				"line 1: remote: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request",
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
			gh := &contentsServer{files: tt.files, repos: tt.repos, fail: tt.fail}
			client := gh.start(t)

			got, err := NewLoader("", server).Load(context.Background(), client, "acme", "gitops", tt.ref)

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
				var fileErr *FileError
				if !errors.As(got.ParseError, &fileErr) || fileErr.Source != tt.source {
					t.Errorf("ParseError is not a *FileError for %s: %#v", tt.source, got.ParseError)
				}
			default:
				if got.LoadError != nil || got.ParseError != nil {
					t.Fatalf("Load() errors: load %v, parse %v", got.LoadError, got.ParseError)
				}
				want := server.Clone()
				tt.want(&want)
				if !reflect.DeepEqual(got.Config, want) {
					t.Errorf("Config =\n%+v\nwant\n%+v", got.Config, want)
				}
			}
			if tt.load != "" || tt.parse != "" {
				if !reflect.DeepEqual(got.Config, Config{}) {
					t.Errorf("Config = %+v with an error, want the zero Config", got.Config)
				}
			}
		})
	}
}

func TestLoadReadsTheRequestedRefAndPath(t *testing.T) {
	gh := &contentsServer{
		files: map[string]string{"acme/gitops/config/rollback.yml": "version: 1\nbranch_prefix: revert-\n"},
		repos: map[string]string{"acme/.github": "main"},
	}
	client := gh.start(t)
	loader := NewLoader("config/rollback.yml", DefaultConfig())

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
	if got := gh.requestLog(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestLoadOrgFileAtRootOfDotGithub(t *testing.T) {
	gh := &contentsServer{
		files: map[string]string{"acme/.github/flux-rollback.yml": orgFile},
		repos: map[string]string{"acme/.github": "main"},
	}
	client := gh.start(t)

	got, err := NewLoader(DefaultPath, DefaultConfig()).Load(context.Background(), client, "acme", "gitops", "main")
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if !got.Config.AllowAnyCommit {
		t.Errorf("org file not applied: %+v", got.Config)
	}
	want := []string{
		"/repos/acme/gitops/contents/.github/flux-rollback.yml?ref=main",
		"/repos/acme/.github",
		"/repos/acme/.github/contents/flux-rollback.yml?ref=main",
	}
	if got := gh.requestLog(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestLoadReturnsIndependentCopies(t *testing.T) {
	server := DefaultConfig()
	server.PullRequest.Labels = []string{"rollback"}
	client := (&contentsServer{}).start(t)
	loader := NewLoader("", server)

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
