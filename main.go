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
	"runtime/debug"
	"strings"

	"github.com/fluxrollback/flux-rollback/server"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `usage: flux-rollback <command> [flags]

commands:
  serve [--config FILE]  run the GitHub App (configuration: FILE, then FLUXROLLBACK_* and GITHUB_* variables)
  demo [--keep]          play a release and its rollback on the embedded GitHub (--keep: leave it running)
  version                print the version
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 on success, 1 when
// the command failed (one line on stderr says why), 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return fail(stderr, serve(ctx, args[1:], stderr))
	case "demo":
		return fail(stderr, demoCommand(ctx, args[1:], stdout))
	case "version":
		fmt.Fprintln(stdout, buildVersion())
		return 0
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
	if err == nil {
		return 0
	}
	var usageErr usageError
	if errors.As(err, &usageErr) {
		fmt.Fprintf(stderr, "flux-rollback: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "flux-rollback: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	return 1
}

type usageError struct{ error }

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	configPath := flags.String("config", "", "path of the YAML configuration file (default: none, only the environment)")
	if err := flags.Parse(args); err != nil {
		return usageError{fmt.Errorf("serve: %w", err)}
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", flags.Arg(0))}
	}

	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	s, err := server.New(cfg,
		server.WithVersion(buildVersion()),
		server.WithLogger(server.NewLogger(stderr, cfg.Server.LogLevel)),
	)
	if err != nil {
		return err
	}
	return s.ListenAndServe(ctx)
}

// buildVersion is the stamped version, else the module version the binary
// was built from (go install ...@v1.2.3), else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
