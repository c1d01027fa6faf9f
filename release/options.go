package release

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// Options are a repository's additions to release detection.
type Options struct {
	// Authors are identities (login, name or email, compared without regard
	// to case) whose commits that change only image references are releases.
	Authors []string
	// MessagePatterns mark a commit as a release when one matches its message
	// and the commit changes only image references.
	MessagePatterns []*regexp.Regexp
	// IgnorePaths are path globs ("**" crosses directories) relative to the
	// repository root; matching files are left out of the decision entirely.
	IgnorePaths []string
}

// NewOptions builds Options from a repository's detection settings,
// compiling the message patterns and validating the path globs, so that a
// mistake is reported against the setting that holds it.
func NewOptions(d repoconfig.Detection) (Options, error) {
	var opts Options
	for i, a := range d.Authors {
		a = strings.TrimSpace(a)
		if a == "" {
			return Options{}, fmt.Errorf("detection.authors[%d]: empty author", i)
		}
		opts.Authors = append(opts.Authors, a)
	}
	for i, p := range d.MessagePatterns {
		if p == "" {
			return Options{}, fmt.Errorf("detection.message_patterns[%d]: empty pattern, which would match every commit message", i)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return Options{}, fmt.Errorf("detection.message_patterns[%d] %q: %w", i, p, err)
		}
		opts.MessagePatterns = append(opts.MessagePatterns, re)
	}
	for i, g := range d.IgnorePaths {
		// Commit file paths never start with "/"; accept the root-anchored
		// spelling people write in .gitignore style.
		g = strings.TrimPrefix(strings.TrimSpace(g), "/")
		if g == "" || !doublestar.ValidatePattern(g) {
			return Options{}, fmt.Errorf("detection.ignore_paths[%d] %q: not a valid path glob", i, d.IgnorePaths[i])
		}
		opts.IgnorePaths = append(opts.IgnorePaths, g)
	}
	return opts, nil
}

// Ignores reports whether path is left out of release detection.
func (o Options) Ignores(p string) bool {
	for _, g := range o.IgnorePaths {
		// Patterns were validated by NewOptions; one set by hand that is
		// malformed simply matches nothing.
		if ok, err := doublestar.Match(g, p); err == nil && ok {
			return true
		}
	}
	return false
}

// MightHoldImages reports whether a change to path could be part of a
// release: a YAML file outside the ignored paths. Callers use it to avoid
// fetching diffs that cannot matter.
func (o Options) MightHoldImages(p string) bool {
	return MightHoldImages(p) && !o.Ignores(p)
}

// MightHoldImages reports whether path is a YAML file, the only kind of file
// image automation writes. Options.MightHoldImages also honours ignored
// paths.
func MightHoldImages(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// authoredBy reports whether one of the extra authors made or committed c.
func (o Options) authoredBy(c Commit) bool {
	for _, a := range o.Authors {
		for _, id := range []Identity{c.Author, c.Committer} {
			for _, v := range []string{id.Login, id.Name, id.Email} {
				if v != "" && strings.EqualFold(v, a) {
					return true
				}
			}
		}
	}
	return false
}

// matchesMessage reports whether one of the extra patterns matches message.
func (o Options) matchesMessage(message string) bool {
	for _, re := range o.MessagePatterns {
		if re.MatchString(message) {
			return true
		}
	}
	return false
}
