// Command flux-rollback is a GitHub App that puts a "Roll back" button on every
// Flux CD image-release commit of a GitOps repository and, when it is
// pressed, opens a pull request with the revert.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage: flux-rollback <command> [flags]

commands:
  serve         run the GitHub App
  check-config  check the server configuration and a repository's .github/flux-rollback.yml
  register      register the GitHub App on github.com or GitHub Enterprise Server
  demo          play a release and its rollback on the embedded GitHub
  version       print the version and the commit it was built from

Run 'flux-rollback <command> --help' for a command's flags.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 on success, 1 when
// the command failed (one line on stderr says why), 2 on a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return fail(stderr, serve(ctx, args[1:], stdout, stderr))
	case "check-config":
		return fail(stderr, checkConfig(args[1:], stdout))
	case "register":
		return fail(stderr, registerCommand(ctx, args[1:], stdout, stderr))
	case "demo":
		return fail(stderr, demoCommand(ctx, args[1:], stdin, stdout))
	case "version":
		return fail(stderr, versionCommand(args[1:], stdout))
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "flux-rollback: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

// fail prints err as the one line that explains a non-zero exit.
func fail(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return 0
	}
	var usageErr usageError
	if errors.As(err, &usageErr) {
		fmt.Fprintf(stderr, "flux-rollback: %v\n", err)
		return 2
	}
	var reported reportedError
	if errors.As(err, &reported) {
		return 1
	}
	fmt.Fprintf(stderr, "flux-rollback: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	return 1
}

type usageError struct{ error }

// reportedError is a failure the command has already explained on its own
// output (check-config's list of problems).
type reportedError struct{ error }

// errHelpShown ends a command that printed its help: exit status 0.
var errHelpShown = errors.New("help shown")

// command describes a subcommand for its --help text.
type command struct {
	name     string
	synopsis string // the flags part of the usage line
	about    string // what the command does, one paragraph
}

// flags returns the command's flag set; parse reads it.
func (c command) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args. On -h or --help it prints the usage line, the
// description and the flags on stdout and returns errHelpShown; a bad flag
// or a stray argument is a usageError.
func (c command) parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(fs, stdout)
		return errHelpShown
	}
	if err != nil {
		return usageError{fmt.Errorf("%s: %w (see flux-rollback %s --help)", c.name, err, c.name)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q (see flux-rollback %s --help)", c.name, fs.Arg(0), c.name)}
	}
	return nil
}

func (c command) printHelp(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "usage: flux-rollback %s %s\n\n%s\n", c.name, c.synopsis, c.about)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
