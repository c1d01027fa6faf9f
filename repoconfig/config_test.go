package repoconfig

import (
	"reflect"
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
