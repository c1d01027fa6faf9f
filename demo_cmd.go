package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/fluxrollback/flux-rollback/demo"
)

// demoCommand plays the demo on the embedded GitHub.
func demoCommand(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("demo", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	keep := flags.Bool("keep", false, "leave both servers running and print how to use them")
	if err := flags.Parse(args); err != nil {
		return usageError{fmt.Errorf("demo: %w", err)}
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Errorf("demo: unexpected argument %q", flags.Arg(0))}
	}
	return demo.Run(ctx, demo.Options{Out: stdout, Color: isTerminal(stdout), Keep: *keep, Version: buildVersion()})
}

// isTerminal reports whether w is a terminal, where colours help.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) && os.Getenv("NO_COLOR") == ""
}
