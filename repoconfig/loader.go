package repoconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/appconfig"
)

// SourceServerDefaults is the Source of a configuration when neither the
// repository nor its organisation has a file.
const SourceServerDefaults = "server defaults"

// Loader finds and reads the configuration of a repository: the repository's
// own file, else the file in its organisation's .github repository, else the
// server's defaults.
type Loader struct {
	files    *appconfig.Loader
	defaults Config
}

// NewLoader returns a Loader reading the repository file at path (DefaultPath
// when empty) and the organisation file at the same path without its leading
// ".github/" in the organisation's .github repository. Files are overlaid on
// defaults, which the server has validated.
func NewLoader(path string, defaults Config) *Loader {
	if path == "" {
		path = DefaultPath
	}
	return &Loader{
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

// Fetched is the outcome of loading a repository's configuration. At most one
// of LoadError and ParseError is set; Config is meaningful only when neither
// is.
type Fetched struct {
	Config Config
	// Source names the file the configuration came from,
	// "owner/repo/.github/flux-rollback.yml@ref" or
	// "owner/.github/flux-rollback.yml@main", or SourceServerDefaults.
	Source string
	// LoadError means GitHub could not be read; it is worth retrying, so the
	// caller returns it.
	LoadError error
	// ParseError means the file is broken: the caller shows the user
	// "<Source>: <ParseError>" and does nothing else. It is a *FileError; its
	// message has one problem a line, each with the line of the file where
	// there is one ("line 3: pull_request.lables: unknown key ...").
	ParseError error
}

// FileError is a configuration file that cannot be used. Its message is the
// problems alone; the file they are in is Source, which callers put in front
// once rather than on every line.
type FileError struct {
	Source   string
	Problems Problems
}

func (e *FileError) Error() string { return e.Problems.Error() }

// Unwrap gives the Problems, for errors.As.
func (e *FileError) Unwrap() error { return e.Problems }

// Load reads the configuration of owner/repo at ref (the default branch when
// empty) through client; GitHub's answers are cached by the client, not here.
// The error returned is Fetched.LoadError, so a caller may return it directly
// and then look at ParseError.
func (l *Loader) Load(ctx context.Context, client *github.Client, owner, repo, ref string) (Fetched, error) {
	file, err := l.files.LoadConfig(ctx, client, owner, repo, ref)
	source := sourceName(file)
	if err != nil {
		f := Fetched{Source: source, LoadError: fmt.Errorf("read configuration %s: %w", source, err)}
		return f, f.LoadError
	}
	if file.IsUndefined() {
		return Fetched{Config: l.defaults.Clone(), Source: SourceServerDefaults}, nil
	}

	cfg, err := Parse(file.Content, l.defaults)
	if err != nil {
		var problems Problems
		if !errors.As(err, &problems) {
			problems = Problems{{Message: err.Error()}}
		}
		return Fetched{Source: source, ParseError: &FileError{Source: source, Problems: problems}}, nil
	}
	return Fetched{Config: cfg, Source: source}, nil
}

// sourceName turns appconfig's "owner/repo@ref" and path into
// "owner/repo/path@ref".
func sourceName(c appconfig.Config) string {
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
