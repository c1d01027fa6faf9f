package repoconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Roles, as GitHub names them in the role_name of a collaborator's
// permission, from least to most privileged.
const (
	RoleRead     = "read"
	RoleTriage   = "triage"
	RoleWrite    = "write"
	RoleMaintain = "maintain"
	RoleAdmin    = "admin"
)

var roleRank = map[string]int{
	RoleRead:     1,
	RoleTriage:   2,
	RoleWrite:    3,
	RoleMaintain: 4,
	RoleAdmin:    5,
}

// minimumRoles are the roles minimum_role may name: rolling back writes a
// branch and opens a pull request, which the roles below write cannot do.
var minimumRoles = []string{RoleWrite, RoleMaintain, RoleAdmin}

// onFailureValues are the values on_failure may take.
var onFailureValues = []string{OnFailureWarn, OnFailureOpenPullRequest}

// RoleAllows reports whether a user whose role_name is role meets minimum.
// Both are GitHub's built-in role names (read < triage < write < maintain <
// admin). Any other role is refused, on either side: a custom repository role
// carries its own name, and the name alone does not tell which built-in role
// it extends, so granting it would be a guess.
func RoleAllows(role, minimum string) bool {
	have, ok := roleRank[role]
	if !ok {
		return false
	}
	need, ok := roleRank[minimum]
	if !ok {
		return false
	}
	return have >= need
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Line in the file, or 0 when unknown (the value came from the server's
	// defaults, or the problem is a missing key).
	Line int
	// Key is the dotted path of the option, with list indexes
	// ("detection.message_patterns[1]"); empty when the problem is not about
	// one option.
	Key     string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the error of an invalid configuration.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate reports every invalid option of c, as Problems, or nil.
func (c Config) Validate() error {
	if ps := c.problems(); len(ps) > 0 {
		return ps
	}
	return nil
}

func (c Config) problems() Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	switch c.Version {
	case CurrentVersion:
	case 0:
		add("version", "missing: add `version: %d`", CurrentVersion)
	default:
		add("version", "%d is not a version of this file; the only one is %d", c.Version, CurrentVersion)
	}

	for i, b := range c.Branches {
		key := fmt.Sprintf("branches[%d]", i)
		if b == "" {
			add(key, "empty branch name")
		} else if !validBranchName(b) {
			add(key, "%q is not a valid git branch name", b)
		}
	}

	for i, a := range c.Detection.Authors {
		if strings.TrimSpace(a) == "" {
			add(fmt.Sprintf("detection.authors[%d]", i), "empty author")
		}
	}
	for i, p := range c.Detection.MessagePatterns {
		key := fmt.Sprintf("detection.message_patterns[%d]", i)
		if p == "" {
			add(key, "empty pattern, which would match every commit message")
		} else if _, err := regexp.Compile(p); err != nil {
			add(key, "not a valid regular expression: %v", err)
		}
	}
	for i, g := range c.Detection.IgnorePaths {
		key := fmt.Sprintf("detection.ignore_paths[%d]", i)
		// Globs are relative to the repository root; a leading "/" says the
		// same thing, .gitignore style, and release detection drops it.
		rel := strings.TrimPrefix(strings.TrimSpace(g), "/")
		switch {
		case rel == "":
			add(key, "empty glob")
		case !doublestar.ValidatePattern(rel):
			add(key, "%q is not a valid glob", g)
		}
	}

	if !slices.Contains(minimumRoles, c.MinimumRole) {
		add("minimum_role", "%q is not one of %s", c.MinimumRole, strings.Join(minimumRoles, ", "))
	}

	switch {
	case c.BranchPrefix == "":
		add("branch_prefix", "empty: rollback branches need a prefix, like rollback-")
	case !validBranchName(c.BranchPrefix + "0123abc"):
		// git check-ref-format is the authority on what a branch may be called;
		// the sample SHA stands in for the part the prefix is followed by.
		add("branch_prefix", "%q cannot start a git branch name (no spaces, ~ ^ : ? * [ \\ or .., no leading - or ., no // or .lock)", c.BranchPrefix)
	}

	for i, g := range c.StatusContexts {
		key := fmt.Sprintf("status_contexts[%d]", i)
		switch {
		case strings.TrimSpace(g) == "":
			add(key, "empty glob")
		case !doublestar.ValidatePattern(g):
			add(key, "%q is not a valid glob", g)
		}
	}
	if c.OnFailure != "" && !slices.Contains(onFailureValues, c.OnFailure) {
		add("on_failure", "%q is not one of %s", c.OnFailure, strings.Join(onFailureValues, ", "))
	}

	for i, l := range c.PullRequest.Labels {
		if strings.TrimSpace(l) == "" {
			add(fmt.Sprintf("pull_request.labels[%d]", i), "empty label")
		}
	}
	for i, r := range c.PullRequest.Reviewers {
		if strings.TrimSpace(r) == "" {
			add(fmt.Sprintf("pull_request.reviewers[%d]", i), "empty login")
		}
	}
	for i, t := range c.PullRequest.TeamReviewers {
		if strings.TrimSpace(t) == "" {
			add(fmt.Sprintf("pull_request.team_reviewers[%d]", i), "empty team slug")
		}
	}
	return ps
}
