// Package repoconfig holds the per-repository options of flux-rollback: the
// file a repository may keep (.github/flux-rollback.yml), the organisation's
// defaults in its .github repository, and the server's defaults under both.
package repoconfig

// Config is the effective configuration of one repository.
type Config struct {
	// Version of the file format; only 1 exists.
	Version int `yaml:"version"`
	// Enabled turns flux-rollback on or off for the repository.
	Enabled *bool `yaml:"enabled,omitempty"`
	// Branches watched for releases besides the default branch.
	Branches []string `yaml:"branches,omitempty"`
	// Detection adds ways to recognise Flux release commits.
	Detection Detection `yaml:"detection"`
	// MinimumRole a user needs to roll back: write, maintain or admin.
	MinimumRole string `yaml:"minimum_role,omitempty"`
	// AllowAnyCommit lets /rollback revert commits that are not Flux releases.
	AllowAnyCommit bool `yaml:"allow_any_commit,omitempty"`
	// BranchPrefix of the rollback branches.
	BranchPrefix string `yaml:"branch_prefix,omitempty"`
	// PullRequest options of the rollback pull requests.
	PullRequest PullRequest `yaml:"pull_request"`
}

// Detection adds ways to recognise release commits.
type Detection struct {
	// Authors are extra identities (login, name or email) whose commits that
	// change only image references are releases.
	Authors []string `yaml:"authors,omitempty"`
	// MessagePatterns are extra regular expressions; a commit whose message
	// matches one and that changes only image references is a release.
	MessagePatterns []string `yaml:"message_patterns,omitempty"`
	// IgnorePaths are path globs whose changes neither make nor break a release.
	IgnorePaths []string `yaml:"ignore_paths,omitempty"`
}

// PullRequest options.
type PullRequest struct {
	Labels        []string `yaml:"labels,omitempty"`
	Draft         bool     `yaml:"draft,omitempty"`
	Reviewers     []string `yaml:"reviewers,omitempty"`
	TeamReviewers []string `yaml:"team_reviewers,omitempty"`
}
