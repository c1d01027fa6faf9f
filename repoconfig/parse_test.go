package repoconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseOverlay(t *testing.T) {
	server := DefaultConfig()
	server.MinimumRole = "maintain"
	server.PullRequest.Labels = []string{"rollback"}
	server.Detection.Authors = []string{"fluxbot"}

	tests := map[string]struct {
		file string
		want func(*Config) // edits the server defaults into the expected result
	}{
		"only version keeps every default": {
			file: "version: 1\n",
			want: func(*Config) {},
		},
		"scalar keys override": {
			file: "version: 1\nminimum_role: admin\nallow_any_commit: true\nbranch_prefix: revert/\nenabled: false\n",
			want: func(c *Config) {
				c.MinimumRole = "admin"
				c.AllowAnyCommit = true
				c.BranchPrefix = "revert/"
				*c.Enabled = false
			},
		},
		"a list replaces the default list": {
			file: "version: 1\npull_request:\n  labels: [revert, urgent]\n",
			want: func(c *Config) { c.PullRequest.Labels = []string{"revert", "urgent"} },
		},
		"an empty list clears the default list": {
			file: "version: 1\npull_request:\n  labels: []\n",
			want: func(c *Config) { c.PullRequest.Labels = []string{} },
		},
		"a nested key keeps its siblings' defaults": {
			file: "version: 1\ndetection:\n  message_patterns: ['^chore\\(release\\)']\npull_request:\n  draft: true\n",
			want: func(c *Config) {
				c.Detection.MessagePatterns = []string{`^chore\(release\)`}
				c.PullRequest.Draft = true
			},
		},
		"every key": {
			file: `version: 1
enabled: false
branches: [staging, env/prod]
detection:
  authors: [fluxcdbot, flux@example.com]
  message_patterns: ['^\[ci skip\] Update image']
  ignore_paths: ["docs/**", "*.md"]
minimum_role: maintain
allow_any_commit: true
branch_prefix: flux/rollback-
pull_request:
  labels: [rollback, urgent]
  draft: true
  reviewers: [octocat]
  team_reviewers: [sre]
hold: false
status_contexts: ["kustomization/apps/*", "flux/**"]
on_failure: open_pull_request
`,
			want: func(c *Config) { *c = fullConfig() },
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			want := server.Clone()
			tt.want(&want)

			got, err := Parse([]byte(tt.file), server)

			if err != nil {
				t.Fatalf("Parse() error: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}

	if !reflect.DeepEqual(server.PullRequest.Labels, []string{"rollback"}) || !*server.Enabled {
		t.Errorf("parsing changed the defaults it overlaid: %+v", server)
	}
}

func TestParseProblems(t *testing.T) {
	tests := map[string]struct {
		file string
		want []string // each problem's String(), in order
	}{
		"version missing": {
			file: "minimum_role: admin\n",
			want: []string{"version: missing: add `version: 1` at the top of the file"},
		},
		"version wrong": {
			file: "# settings\nversion: 2\n",
			want: []string{"line 2: version: 2 is not a version of this file; the only one is 1"},
		},
		"version not a number": {
			file: "version: one\n",
			want: []string{"line 1: version: want a whole number, got the string `one`"},
		},
		"empty file": {
			file: "# nothing yet\n",
			want: []string{"the file is empty: it needs at least `version: 1`"},
		},
		"unknown top-level key names key and line": {
			file: "version: 1\nminimum_role: write\nauto_merge: true\n",
			want: []string{"line 3: auto_merge: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request, hold, status_contexts, on_failure"},
		},
		"unknown nested key names its path": {
			file: "version: 1\npull_request:\n  draft: true\n  lables: [rollback]\n",
			want: []string{"line 4: pull_request.lables: unknown key; known keys here: labels, draft, reviewers, team_reviewers"},
		},
		"remote reference is an unknown key": {
			file: "remote: acme/config\n",
			want: []string{
				"version: missing: add `version: 1` at the top of the file",
				"line 1: remote: unknown key; known keys here: version, enabled, branches, detection, minimum_role, allow_any_commit, branch_prefix, pull_request, hold, status_contexts, on_failure",
			},
		},
		"invalid pattern has its line": {
			file: "version: 1\ndetection:\n  message_patterns:\n    - '^ok$'\n    - '(unclosed'\n",
			want: []string{"line 5: detection.message_patterns[1]: not a valid regular expression: error parsing regexp: missing closing ): `(unclosed`"},
		},
		"invalid role has its line": {
			file: "version: 1\n\nminimum_role: owner\n",
			want: []string{`line 3: minimum_role: "owner" is not one of write, maintain, admin`},
		},
		"several problems in line order": {
			file: "version: 1\nbranch_prefix: 'a b'\npull_request:\n  labels: ['']\ndetection:\n  ignore_paths: ['[']\n",
			want: []string{
				`line 2: branch_prefix: "a b" cannot start a git branch name (no spaces, ~ ^ : ? * [ \ or .., no leading - or ., no // or .lock)`,
				"line 4: pull_request.labels[0]: empty label",
				`line 6: detection.ignore_paths[0]: "[" is not a valid glob`,
			},
		},
		"key without a value": {
			file: "version: 1\npull_request:\n  labels:\n",
			want: []string{"line 3: pull_request.labels: no value: give one or remove the key"},
		},
		"section without a value": {
			file: "version: 1\nminimum_role:\n",
			want: []string{"line 2: minimum_role: no value: give one or remove the key"},
		},
		"wrong type": {
			file: "version: 1\nbranches: staging\n",
			want: []string{"line 2: branches: want a list of strings (like [a, b]), got the string `staging`"},
		},
		"section given a scalar": {
			file: "version: 1\ndetection: true\n",
			want: []string{"line 2: detection: want a mapping of keys to values, got the boolean `true`"},
		},
		"list item of the wrong type": {
			file: "version: 1\npull_request:\n  reviewers:\n    - octocat\n    - [a, b]\n",
			want: []string{"line 5: pull_request.reviewers[1]: want a string, got a list"},
		},
		"flow list item of the wrong type": {
			file: "version: 1\npull_request:\n  labels: [a, {b: c}]\n",
			want: []string{"line 3: pull_request.labels[1]: want a string, got a mapping"},
		},
		"nested list item": {
			file: "version: 1\nbranches: [[a, b]]\n",
			want: []string{"line 2: branches[0]: want a string, got a list"},
		},
		"boolean given a word": {
			file: "version: 1\npull_request:\n  draft: sometimes\n",
			want: []string{"line 3: pull_request.draft: want true or false, got the string `sometimes`"},
		},
		"syntax error": {
			file: "version: 1\npull_request:\n  labels: [a\n",
			want: []string{"line 2: did not find expected ',' or ']'"},
		},
		"not a mapping": {
			file: "- version: 1\n",
			want: []string{"line 1: the file must be a mapping of keys to values, like `version: 1`"},
		},
		"duplicate key": {
			file: "version: 1\nminimum_role: write\nminimum_role: admin\n",
			want: []string{`line 3: mapping key "minimum_role" already defined at line 2`},
		},
		"second document": {
			file: "version: 1\n---\nversion: 1\n",
			want: []string{"line 2: a second YAML document (after ---); the file holds one"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.file), DefaultConfig())

			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse() error = %v, want Problems", err)
			}
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.String()
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse() problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("Parse() returned a config with its error: %+v", cfg)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	file := []byte(`version: 1
branches: [staging]
detection:
  authors: [deploy-bot]
  message_patterns: ['^deploy: \S+ \S+$']
  ignore_paths: ["docs/**"]
minimum_role: maintain
pull_request:
  labels: [rollback]
  draft: true
`)
	defaults := DefaultConfig()
	for b.Loop() {
		if _, err := Parse(file, defaults); err != nil {
			b.Fatal(err)
		}
	}
}
