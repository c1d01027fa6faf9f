package repoconfig

import (
	"reflect"
	"strings"
	"testing"
)

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()

	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	checks := map[string]struct{ got, want any }{
		"version":          {cfg.Version, 1},
		"enabled":          {cfg.IsEnabled(), true},
		"hold":             {cfg.HoldsAutomation(), true},
		"branches":         {len(cfg.Branches), 0},
		"minimum_role":     {cfg.MinimumRole, "write"},
		"allow_any_commit": {cfg.AllowAnyCommit, false},
		"branch_prefix":    {cfg.BranchPrefix, "rollback-"},
		"labels":           {len(cfg.PullRequest.Labels), 0},
		"draft":            {cfg.PullRequest.Draft, false},
		"reviewers":        {len(cfg.PullRequest.Reviewers) + len(cfg.PullRequest.TeamReviewers), 0},
		"detection":        {reflect.DeepEqual(cfg.Detection, Detection{}), true},
		"status_contexts":  {strings.Join(cfg.StatusContexts, " "), "kustomization/**"},
		"on_failure":       {cfg.OpensPullRequestOnFailure(), false},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
}

func TestIsEnabled(t *testing.T) {
	yes, no := true, false
	tests := map[string]struct {
		enabled *bool
		want    bool
	}{
		"unset": {nil, true},
		"true":  {&yes, true},
		"false": {&no, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (Config{Enabled: tt.enabled}).IsEnabled(); got != tt.want {
				t.Errorf("IsEnabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCloneSharesNothing(t *testing.T) {
	orig := DefaultConfig()
	orig.Branches = []string{"staging"}
	orig.Detection = Detection{Authors: []string{"a"}, MessagePatterns: []string{"m"}, IgnorePaths: []string{"p"}}
	orig.PullRequest = PullRequest{Labels: []string{"l"}, Reviewers: []string{"r"}, TeamReviewers: []string{"t"}}
	want := orig.Clone()

	c := orig.Clone()
	*c.Enabled = false
	*c.Hold = false
	c.Branches[0] = "x"
	c.Detection.Authors[0] = "x"
	c.Detection.MessagePatterns[0] = "x"
	c.Detection.IgnorePaths[0] = "x"
	c.PullRequest.Labels[0] = "x"
	c.PullRequest.Reviewers[0] = "x"
	c.PullRequest.TeamReviewers[0] = "x"

	if !reflect.DeepEqual(orig, want) {
		t.Errorf("changing a clone changed the original:\n got %+v\nwant %+v", orig, want)
	}
}

// TestAcceptsStatusContext matches the contexts Flux's notification-controller
// writes (kind/name/first part of the Provider's UID, lower-cased; older
// versions wrote kind/name) and leaves out those of CI systems.
func TestAcceptsStatusContext(t *testing.T) {
	defaults := DefaultConfig()
	custom := DefaultConfig()
	custom.StatusContexts = []string{"kustomization/apps/*", "*/prod-*"}
	off := DefaultConfig()
	off.StatusContexts = []string{}
	tests := map[string]struct {
		cfg     Config
		context string
		want    bool
	}{
		"flux default":               {defaults, "kustomization/apps/1a2b3c4d", true},
		"flux before the uid":        {defaults, "kustomization/apps", true},
		"flux helm release":          {defaults, "helmrelease/podinfo/1a2b3c4d", false},
		"ci":                         {defaults, "ci/circleci: build", false},
		"github actions":             {defaults, "build (ubuntu-latest)", false},
		"prefix only":                {defaults, "kustomizations/apps/1a2b3c4d", false},
		"custom named kustomization": {custom, "kustomization/apps/1a2b3c4d", true},
		"custom other kustomization": {custom, "kustomization/infra/1a2b3c4d", false},
		"custom cluster suffix":      {custom, "kustomization/prod-01", true},
		"off":                        {off, "kustomization/apps/1a2b3c4d", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.cfg.AcceptsStatusContext(tt.context); got != tt.want {
				t.Errorf("AcceptsStatusContext(%q) = %v, want %v", tt.context, got, tt.want)
			}
		})
	}
}
