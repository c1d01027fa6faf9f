package repoconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		edit    func(*Config)
		wantKey string // empty: valid
		wantMsg string
	}{
		"defaults":             {func(*Config) {}, "", ""},
		"every option set":     {func(c *Config) { *c = fullConfig() }, "", ""},
		"version missing":      {func(c *Config) { c.Version = 0 }, "version", "add `version: 1`"},
		"version 2":            {func(c *Config) { c.Version = 2 }, "version", "2 is not a version"},
		"role maintain":        {func(c *Config) { c.MinimumRole = "maintain" }, "", ""},
		"role admin":           {func(c *Config) { c.MinimumRole = "admin" }, "", ""},
		"role triage":          {func(c *Config) { c.MinimumRole = "triage" }, "minimum_role", `"triage" is not one of write, maintain, admin`},
		"role empty":           {func(c *Config) { c.MinimumRole = "" }, "minimum_role", "is not one of"},
		"role capitalised":     {func(c *Config) { c.MinimumRole = "Admin" }, "minimum_role", "is not one of"},
		"branch empty":         {func(c *Config) { c.Branches = []string{"staging", ""} }, "branches[1]", "empty branch name"},
		"branch invalid":       {func(c *Config) { c.Branches = []string{"a..b"} }, "branches[0]", "not a valid git branch name"},
		"branch nested":        {func(c *Config) { c.Branches = []string{"env/prod"} }, "", ""},
		"author blank":         {func(c *Config) { c.Detection.Authors = []string{" "} }, "detection.authors[0]", "empty author"},
		"pattern broken":       {func(c *Config) { c.Detection.MessagePatterns = []string{"ok", "(unclosed"} }, "detection.message_patterns[1]", "not a valid regular expression"},
		"pattern empty":        {func(c *Config) { c.Detection.MessagePatterns = []string{""} }, "detection.message_patterns[0]", "match every commit"},
		"pattern perl-only":    {func(c *Config) { c.Detection.MessagePatterns = []string{`(?<=x)y`} }, "detection.message_patterns[0]", "not a valid regular expression"},
		"glob doublestar":      {func(c *Config) { c.Detection.IgnorePaths = []string{"docs/**", "**/*.md", "{a,b}/x"} }, "", ""},
		"glob broken":          {func(c *Config) { c.Detection.IgnorePaths = []string{"docs/[a"} }, "detection.ignore_paths[0]", "not a valid glob"},
		"glob root-anchored":   {func(c *Config) { c.Detection.IgnorePaths = []string{"/docs/*"} }, "", ""},
		"glob only a slash":    {func(c *Config) { c.Detection.IgnorePaths = []string{"/"} }, "detection.ignore_paths[0]", "empty glob"},
		"glob empty":           {func(c *Config) { c.Detection.IgnorePaths = []string{""} }, "detection.ignore_paths[0]", "empty glob"},
		"prefix with slash":    {func(c *Config) { c.BranchPrefix = "flux/rollback-" }, "", ""},
		"prefix empty":         {func(c *Config) { c.BranchPrefix = "" }, "branch_prefix", "empty"},
		"prefix space":         {func(c *Config) { c.BranchPrefix = "roll back-" }, "branch_prefix", "cannot start a git branch name"},
		"prefix dots":          {func(c *Config) { c.BranchPrefix = "a..b-" }, "branch_prefix", "cannot start a git branch name"},
		"prefix leading dash":  {func(c *Config) { c.BranchPrefix = "-rb" }, "branch_prefix", "cannot start a git branch name"},
		"prefix leading dot":   {func(c *Config) { c.BranchPrefix = ".rb" }, "branch_prefix", "cannot start a git branch name"},
		"prefix double slash":  {func(c *Config) { c.BranchPrefix = "a//b" }, "branch_prefix", "cannot start a git branch name"},
		"prefix reflog syntax": {func(c *Config) { c.BranchPrefix = "a@{" }, "branch_prefix", "cannot start a git branch name"},
		"prefix colon":         {func(c *Config) { c.BranchPrefix = "a:b" }, "branch_prefix", "cannot start a git branch name"},
		"label empty":          {func(c *Config) { c.PullRequest.Labels = []string{"rollback", ""} }, "pull_request.labels[1]", "empty label"},
		"reviewer empty":       {func(c *Config) { c.PullRequest.Reviewers = []string{""} }, "pull_request.reviewers[0]", "empty login"},
		"team reviewer empty":  {func(c *Config) { c.PullRequest.TeamReviewers = []string{"\t"} }, "pull_request.team_reviewers[0]", "empty team slug"},
		"contexts off":         {func(c *Config) { c.StatusContexts = []string{} }, "", ""},
		"context glob broken":  {func(c *Config) { c.StatusContexts = []string{"kustomization/[a"} }, "status_contexts[0]", "not a valid glob"},
		"context glob empty":   {func(c *Config) { c.StatusContexts = []string{"flux/*", " "} }, "status_contexts[1]", "empty glob"},
		"on failure unknown":   {func(c *Config) { c.OnFailure = "rollback" }, "on_failure", `"rollback" is not one of warn, open_pull_request`},
		"on failure empty":     {func(c *Config) { c.OnFailure = "" }, "", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Validate() = %v, want Problems", err)
			}
			if len(ps) != 1 {
				t.Fatalf("Validate() found %d problems, want 1: %v", len(ps), err)
			}
			if ps[0].Key != tt.wantKey || !strings.Contains(ps[0].Message, tt.wantMsg) {
				t.Errorf("Validate() = %q, want key %q and a message containing %q", ps[0], tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{Version: 3, MinimumRole: "owner", BranchPrefix: "", PullRequest: PullRequest{Labels: []string{""}}}

	err := cfg.Validate()

	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Validate() = %v, want Problems", err)
	}
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	want := "version minimum_role branch_prefix pull_request.labels[0]"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("problem keys = %q, want %q", got, want)
	}
	if n := strings.Count(err.Error(), "\n"); n != 3 {
		t.Errorf("error has %d line breaks, want one problem a line:\n%v", n, err)
	}
}

func TestRoleAllows(t *testing.T) {
	roles := []string{"read", "triage", "write", "maintain", "admin"}
	for i, role := range roles {
		for j, minimum := range roles {
			want := i >= j
			if got := RoleAllows(role, minimum); got != want {
				t.Errorf("RoleAllows(%q, %q) = %v, want %v", role, minimum, got, want)
			}
		}
	}

	refused := map[string]struct{ role, minimum string }{
		"custom role":      {"deployer", "write"},
		"no role":          {"", "write"},
		"none":             {"none", "write"},
		"capitalised role": {"Admin", "write"},
		"unknown minimum":  {"admin", "owner"},
		"empty minimum":    {"admin", ""},
	}
	for name, tt := range refused {
		t.Run(name, func(t *testing.T) {
			if RoleAllows(tt.role, tt.minimum) {
				t.Errorf("RoleAllows(%q, %q) = true, want false", tt.role, tt.minimum)
			}
		})
	}
}

// fullConfig sets every option to a valid, non-default value.
func fullConfig() Config {
	disabled := false
	return Config{
		Version:  1,
		Enabled:  &disabled,
		Branches: []string{"staging", "env/prod"},
		Detection: Detection{
			Authors:         []string{"fluxcdbot", "flux@example.com"},
			MessagePatterns: []string{`^\[ci skip\] Update image`},
			IgnorePaths:     []string{"docs/**", "*.md"},
		},
		MinimumRole:    "maintain",
		AllowAnyCommit: true,
		BranchPrefix:   "flux/rollback-",
		PullRequest: PullRequest{
			Labels:        []string{"rollback", "urgent"},
			Draft:         true,
			Reviewers:     []string{"octocat"},
			TeamReviewers: []string{"sre"},
		},
		Hold:           &disabled,
		StatusContexts: []string{"kustomization/apps/*", "flux/**"},
		OnFailure:      OnFailureOpenPullRequest,
	}
}
