package repoconfig

// SourceServerDefaults is the Source of a configuration when neither the
// repository nor its organisation has a file.
const SourceServerDefaults = "server defaults"

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
