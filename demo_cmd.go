package main

import (
	"context"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/fluxrollback/flux-rollback/demo"
)

var demoCmd = command{
	name:     "demo",
	synopsis: "[--keep]",
	about: `Play a Flux release and its rollback end to end: flux-rollback and an embedded,
in-memory GitHub run in this process on loopback ports. With --keep, both keep
running afterwards and a prompt lets you act on the embedded GitHub (release,
click, comment, merge, show); type help there.`,
}

// demoCommand plays the demo on the embedded GitHub.
func demoCommand(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	flags := demoCmd.flags()
	keep := flags.Bool("keep", false, "leave both servers running and act on them from a prompt")
	if err := demoCmd.parse(flags, args, stdout); err != nil {
		return err
	}
	return demo.Run(ctx, demo.Options{Out: stdout, Color: isTerminal(stdout), Keep: *keep, Version: buildVersion(), In: stdin})
}

// isTerminal reports whether w is a terminal, where colours help.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) && os.Getenv("NO_COLOR") == ""
}
