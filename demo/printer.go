package demo

import (
	"fmt"
	"io"
	"strings"
)

// ANSI colours, used only when the output is a terminal.
const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
)

// printer writes the demo's narration.
type printer struct {
	out   io.Writer
	color bool
}

func (p printer) paint(style, s string) string {
	if !p.color {
		return s
	}
	return style + s + reset
}

func (p printer) title(s string) { fmt.Fprintf(p.out, "%s\n", p.paint(bold, s)) }

func (p printer) kv(k, v string) {
	fmt.Fprintf(p.out, "  %s %s\n", p.paint(dim, fmt.Sprintf("%-16s", k)), v)
}

func (p printer) step(n int, s string) {
	fmt.Fprintf(p.out, "\n%s %s\n", p.paint(cyan+bold, fmt.Sprintf("%d.", n)), p.paint(bold, s))
}

func (p printer) note(s string) { fmt.Fprintf(p.out, "  %s %s\n", p.paint(green, "✓"), s) }

// code indents a block of text.
func (p printer) code(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(p.out, "    %s\n", p.paint(dim, line))
	}
}

// diff prints a commit with its diff coloured as git colours it.
func (p printer) diff(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		style := ""
		switch {
		case strings.HasPrefix(line, "commit "):
			style = yellow
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"), strings.HasPrefix(line, "diff --git"), strings.HasPrefix(line, "index "):
			style = bold
		case strings.HasPrefix(line, "@@"):
			style = cyan
		case strings.HasPrefix(line, "+"):
			style = green
		case strings.HasPrefix(line, "-"):
			style = red
		}
		if style == "" {
			fmt.Fprintf(p.out, "    %s\n", line)
		} else {
			fmt.Fprintf(p.out, "    %s\n", p.paint(style, line))
		}
	}
}

func (p printer) done(s string) { fmt.Fprintf(p.out, "\n%s\n", p.paint(green+bold, s)) }
