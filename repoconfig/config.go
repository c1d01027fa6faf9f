// Package repoconfig holds the per-repository options of flux-rollback: the
// file a repository may keep (.github/flux-rollback.yml), the organisation's
// defaults in its .github repository, and the server's defaults under both.
//
// The effective configuration of a repository is the server's defaults
// overlaid by the one file found: the repository's own file if it has one,
// otherwise the organisation's. The two files are never merged with each
// other, so a repository file says everything that differs from the server's
// defaults. Within the file found, every key present replaces the default and
// every key absent keeps it; lists are replaced whole, never appended to.
package repoconfig

import (
	"slices"

	"github.com/bmatcuk/doublestar/v4"
)

// DefaultPath is where a repository keeps its configuration file. In the
// organisation's .github repository the file lives at the root, without the
// leading ".github/".
const DefaultPath = ".github/flux-rollback.yml"

// CurrentVersion is the only version of the file format.
const CurrentVersion = 1

// Config is the effective configuration of one repository.
type Config struct {
	// Version of the file format; only 1 exists.
	Version int `yaml:"version"`
	// Enabled turns flux-rollback on or off for the repository. A nil value
	// means enabled (see IsEnabled).
	Enabled *bool `yaml:"enabled,omitempty"`
	// Branches watched for releases besides the default branch.
	Branches []string `yaml:"branches,omitempty"`
	// Detection adds ways to recognise Flux release commits.
	Detection Detection `yaml:"detection"`
	// MinimumRole a user needs to roll back: write, maintain or admin.
	MinimumRole string `yaml:"minimum_role,omitempty"`
	// AllowAnyCommit lets /rollback revert commits that are not Flux releases.
	AllowAnyCommit bool `yaml:"allow_any_commit,omitempty"`
	// BranchPrefix of the rollback branches; the branch of a rollback is the
	// prefix followed by the first 7 hex digits of the reverted commit.
	BranchPrefix string `yaml:"branch_prefix,omitempty"`
	// PullRequest options of the rollback pull requests.
	PullRequest PullRequest `yaml:"pull_request"`
	// Hold adds to every rollback pull request a commit that holds Flux's
	// image automation for the images it sets back. A nil value means on
	// (see HoldsAutomation).
	Hold *bool `yaml:"hold,omitempty"`
	// StatusContexts are globs (doublestar syntax) of the commit status
	// contexts that say whether Flux applied a commit; a failure from one of
	// them is blamed on the releases since that context last reported
	// success. Empty turns the warnings off.
	StatusContexts []string `yaml:"status_contexts"`
	// OnFailure is what such a failure does besides the warning on the
	// release's check run: OnFailureWarn (also when empty) or
	// OnFailureOpenPullRequest.
	OnFailure string `yaml:"on_failure,omitempty"`
}

// OpensPullRequestOnFailure reports whether a failure status opens the
// blamed releases' rollback pull requests by itself.
func (c Config) OpensPullRequestOnFailure() bool {
	return c.OnFailure == OnFailureOpenPullRequest
}

// Values of on_failure.
const (
	// OnFailureWarn only warns on the blamed releases' check runs.
	OnFailureWarn = "warn"
	// OnFailureOpenPullRequest also opens each blamed release's rollback
	// pull request, as a click would; it never merges it.
	OnFailureOpenPullRequest = "open_pull_request"
)

// FluxStatusContexts matches the contexts Flux's notification-controller
// gives the commit statuses of a Kustomization: kustomization/<name>/<the
// first part of the Provider's UID> (kustomization/<name> in older versions).
const FluxStatusContexts = "kustomization/**"

// AcceptsStatusContext reports whether a commit status of this context
// reports on Flux applying the repository.
func (c Config) AcceptsStatusContext(context string) bool {
	for _, g := range c.StatusContexts {
		if ok, err := doublestar.Match(g, context); err == nil && ok {
			return true
		}
	}
	return false
}

// Detection adds ways to recognise release commits.
type Detection struct {
	// Authors are extra identities (login, name or email) whose commits that
	// change only image references are releases.
	Authors []string `yaml:"authors,omitempty"`
	// MessagePatterns are extra regular expressions (Go RE2 syntax); a commit
	// whose message matches one and that changes only image references is a
	// release.
	MessagePatterns []string `yaml:"message_patterns,omitempty"`
	// IgnorePaths are path globs (doublestar syntax: *, ?, [...], {a,b} and **
	// across directories) relative to the repository root, whose changes
	// neither make nor break a release.
	IgnorePaths []string `yaml:"ignore_paths,omitempty"`
}

// PullRequest options.
type PullRequest struct {
	// Labels added to every rollback pull request.
	Labels []string `yaml:"labels,omitempty"`
	// Draft opens rollback pull requests as drafts.
	Draft bool `yaml:"draft,omitempty"`
	// Reviewers (user logins) whose review is requested.
	Reviewers []string `yaml:"reviewers,omitempty"`
	// TeamReviewers (team slugs) whose review is requested.
	TeamReviewers []string `yaml:"team_reviewers,omitempty"`
}

// DefaultConfig returns the built-in defaults: enabled on the default branch
// only, rollbacks by users with the write role or higher, Flux release commits
// only, branches named rollback-<7 hex>, ready-for-review pull requests without
// labels or reviewers, holding Flux's image automation, and warnings on the
// releases Flux's Kustomization statuses report failing.
func DefaultConfig() Config {
	enabled, hold := true, true
	return Config{
		Version:        CurrentVersion,
		Enabled:        &enabled,
		Hold:           &hold,
		MinimumRole:    RoleWrite,
		BranchPrefix:   "rollback-",
		StatusContexts: []string{FluxStatusContexts},
		OnFailure:      OnFailureWarn,
	}
}

// HoldsAutomation reports whether rollbacks hold Flux's image automation
// for the images they set back.
func (c Config) HoldsAutomation() bool {
	return c.Hold == nil || *c.Hold
}

// IsEnabled reports whether flux-rollback acts on the repository.
func (c Config) IsEnabled() bool {
	return c.Enabled == nil || *c.Enabled
}

// Clone returns a deep copy of c. Decoding a file over a clone of the server's
// defaults must not write through the defaults' pointer and slices, which are
// shared by every repository.
func (c Config) Clone() Config {
	out := c
	if c.Enabled != nil {
		enabled := *c.Enabled
		out.Enabled = &enabled
	}
	if c.Hold != nil {
		hold := *c.Hold
		out.Hold = &hold
	}
	out.Branches = slices.Clone(c.Branches)
	out.StatusContexts = slices.Clone(c.StatusContexts)
	out.Detection.Authors = slices.Clone(c.Detection.Authors)
	out.Detection.MessagePatterns = slices.Clone(c.Detection.MessagePatterns)
	out.Detection.IgnorePaths = slices.Clone(c.Detection.IgnorePaths)
	out.PullRequest.Labels = slices.Clone(c.PullRequest.Labels)
	out.PullRequest.Reviewers = slices.Clone(c.PullRequest.Reviewers)
	out.PullRequest.TeamReviewers = slices.Clone(c.PullRequest.TeamReviewers)
	return out
}
