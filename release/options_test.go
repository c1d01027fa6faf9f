package release

import (
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

func TestNewOptions(t *testing.T) {
	cases := map[string]struct {
		in          repoconfig.Detection
		err         string
		authors     []string
		patterns    []string
		ignorePaths []string
	}{
		"empty": {},
		"all settings": {
			in: repoconfig.Detection{
				Authors:         []string{" renovate-bot ", "ci@acme.example"},
				MessagePatterns: []string{`^deploy: `, `(?i)bump image`},
				IgnorePaths:     []string{"docs/**", "/README.md", "**/*.md"},
			},
			authors:     []string{"renovate-bot", "ci@acme.example"},
			patterns:    []string{`^deploy: `, `(?i)bump image`},
			ignorePaths: []string{"docs/**", "README.md", "**/*.md"},
		},
		"empty author":      {in: repoconfig.Detection{Authors: []string{"a", "  "}}, err: "detection.authors[1]: empty author"},
		"invalid pattern":   {in: repoconfig.Detection{MessagePatterns: []string{"ok", "(unclosed"}}, err: `detection.message_patterns[1] "(unclosed": error parsing regexp`},
		"empty pattern":     {in: repoconfig.Detection{MessagePatterns: []string{""}}, err: "detection.message_patterns[0]: empty pattern"},
		"invalid glob":      {in: repoconfig.Detection{IgnorePaths: []string{"docs/[a-"}}, err: `detection.ignore_paths[0] "docs/[a-": not a valid path glob`},
		"empty ignore path": {in: repoconfig.Detection{IgnorePaths: []string{""}}, err: "detection.ignore_paths[0]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := NewOptions(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NewOptions() error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewOptions(): %v", err)
			}
			var patterns []string
			for _, re := range got.MessagePatterns {
				patterns = append(patterns, re.String())
			}
			if strings.Join(got.Authors, "|") != strings.Join(tc.authors, "|") ||
				strings.Join(patterns, "|") != strings.Join(tc.patterns, "|") ||
				strings.Join(got.IgnorePaths, "|") != strings.Join(tc.ignorePaths, "|") {
				t.Fatalf("NewOptions() = %+v (patterns %q)", got, patterns)
			}
		})
	}
}

func TestMightHoldImages(t *testing.T) {
	opts, err := NewOptions(repoconfig.Detection{IgnorePaths: []string{"docs/**", "*.tmpl.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		path       string
		yaml, opts bool
	}{
		"yaml":                 {"apps/web.yaml", true, true},
		"yml upper case":       {"apps/WEB.YML", true, true},
		"markdown":             {"README.md", false, false},
		"json":                 {"apps/values.json", false, false},
		"no extension":         {"Makefile", false, false},
		"ignored directory":    {"docs/deep/example.yaml", true, false},
		"ignored at root only": {"web.tmpl.yaml", true, false},
		"glob does not cross":  {"apps/web.tmpl.yaml", true, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := MightHoldImages(tc.path); got != tc.yaml {
				t.Errorf("MightHoldImages(%q) = %v, want %v", tc.path, got, tc.yaml)
			}
			if got := opts.MightHoldImages(tc.path); got != tc.opts {
				t.Errorf("Options.MightHoldImages(%q) = %v, want %v", tc.path, got, tc.opts)
			}
		})
	}
}

func TestDetectWithOptionsFromConfig(t *testing.T) {
	opts, err := NewOptions(repoconfig.Detection{MessagePatterns: []string{`^chore\(images\): `}, IgnorePaths: []string{"CHANGELOG.md"}})
	if err != nil {
		t.Fatal(err)
	}
	files := append(modified(t, edit{"apps/web.yaml", deploymentV1, replace(deploymentV1, "web:1.4.1", "web:1.5.0")}),
		File{Path: "CHANGELOG.md", Status: "modified", Patch: "@@ -1 +1,2 @@\n # Changes\n+- web 1.5.0"})
	r, reason := Analyze(Commit{SHA: "s", Message: "chore(images): web 1.5.0", ParentCount: 1, Files: files}, opts)
	if r == nil {
		t.Fatalf("not a release: %s", reason)
	}
	want := ImageChange{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.5.0", File: "apps/web.yaml", Line: 12, Replaced: "ghcr.io/acme/web:1.4.1"}
	if len(r.Changes) != 1 || r.Changes[0] != want || r.Generation != 1 {
		t.Fatalf("Analyze() = %s", dump(r))
	}
}
