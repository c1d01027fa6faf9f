package githubapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/appconfig"

	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// ConfigLoader finds and reads the configuration of a repository: the repository's
// own file, else the file in its organisation's .github repository, else the
// server's defaults.
type ConfigLoader struct {
	files    *appconfig.Loader
	defaults repoconfig.Config
}

// NewConfigLoader returns a ConfigLoader reading the repository file at path (DefaultPath
// when empty) and the organisation file at the same path without its leading
// ".github/" in the organisation's .github repository. Files are overlaid on
// defaults, which the server has validated.
func NewConfigLoader(path string, defaults repoconfig.Config) *ConfigLoader {
	if path == "" {
		path = repoconfig.DefaultPath
	}
	return &ConfigLoader{
		// Remote references (a file that only says `remote: owner/repo`) are
		// turned off. The organisation's .github repository already shares one
		// file, and appconfig reports a reference to a missing file with a
		// plain error that cannot be told apart from a GitHub outage, so a
		// user's mistake would be retried forever instead of shown. A
		// `remote` key is reported as an unknown key.
		files:    appconfig.NewLoader([]string{path}, appconfig.WithRemoteRefParser(nil)),
		defaults: defaults.Clone(),
	}
}

// Defaults returns the server's defaults, under every repository's file.
func (l *ConfigLoader) Defaults() repoconfig.Config { return l.defaults.Clone() }

// Load reads the configuration of owner/repo at ref (the default branch when
// empty) through client; GitHub's answers are cached by the client, not here.
// The error returned is Fetched.LoadError, so a caller may return it directly
// and then look at ParseError.
func (l *ConfigLoader) Load(ctx context.Context, client *github.Client, owner, repo, ref string) (repoconfig.Fetched, error) {
	// appconfig probes for the file in the repository, then in the
	// organisation's .github repository: most repositories have neither.
	file, err := l.files.LoadConfig(ExpectNotFound(ctx), client, owner, repo, ref)
	source := configSourceName(file)
	if err != nil {
		f := repoconfig.Fetched{Source: source, LoadError: fmt.Errorf("read configuration %s: %w", source, err)}
		return f, f.LoadError
	}
	if file.IsUndefined() {
		return repoconfig.Fetched{Config: l.defaults.Clone(), Source: repoconfig.SourceServerDefaults}, nil
	}

	cfg, err := repoconfig.Parse(file.Content, l.defaults)
	if err != nil {
		var problems repoconfig.Problems
		if !errors.As(err, &problems) {
			problems = repoconfig.Problems{{Message: err.Error()}}
		}
		return repoconfig.Fetched{Source: source, ParseError: &repoconfig.FileError{Source: source, Problems: problems}}, nil
	}
	return repoconfig.Fetched{Config: cfg, Source: source}, nil
}

// configSourceName turns appconfig's "owner/repo@ref" and path into
// "owner/repo/path@ref".
func configSourceName(c appconfig.Config) string {
	// Owner and repository names cannot hold '@'; refs can.
	repo, ref, _ := strings.Cut(c.Source, "@")
	name := repo
	if c.Path != "" {
		name += "/" + c.Path
	}
	if ref != "" {
		name += "@" + ref
	}
	return name
}
