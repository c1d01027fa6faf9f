package command

import (
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// lineSpans splits body the way Markdown does (at "\r\n", "\n" or "\r") and
// returns each line's start and end (before its line ending), and where the
// next line starts.
func lineSpans(body string) (starts, ends, nexts []int) {
	for i := 0; i < len(body); {
		start := i
		for i < len(body) && body[i] != '\n' && body[i] != '\r' {
			i++
		}
		end := i
		if i < len(body) {
			if body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
			i++
		}
		starts, ends, nexts = append(starts, start), append(ends, end), append(nexts, i)
	}
	return starts, ends, nexts
}

var (
	commandLine = regexp.MustCompile(`^ {0,3}(/[Rr][Oo][Ll][Ll][Bb][Aa][Cc][Kk](?:[ \t].*)?)$`)
	lowerSHA    = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
)

// mapLines rewrites every line of body and joins them with "\n".
func mapLines(body string, f func(string) string) string {
	starts, ends, _ := lineSpans(body)
	lines := make([]string, len(starts))
	for i := range starts {
		lines[i] = f(body[starts[i]:ends[i]])
	}
	return strings.Join(lines, "\n")
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"/rollback abc1234",
		"> quoted\n/rollback api-js to 1.2.3\n\n/rollback help",
		"```\n/rollback\n```\n/rollback deadbeef",
		"<!--\n/rollback\n-->\r\n/rollback ghcr.io/org/web:1.0",
		"/rollback resume flux-system:api\n/rollback status",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, ok := Parse(body)
		if !ok {
			if cmd != (Command{}) {
				t.Fatalf("no command but %+v", cmd)
			}
			return
		}
		starts, ends, nexts := lineSpans(body)
		if cmd.Line < 1 || cmd.Line > len(starts) {
			t.Fatalf("line %d of a body of %d lines", cmd.Line, len(starts))
		}
		i := cmd.Line - 1
		line := body[starts[i]:ends[i]]

		// The line starts with the command, and Raw is that line as typed.
		m := commandLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d %q does not start with /rollback", cmd.Line, line)
		}
		if want := strings.TrimRight(m[1], " \t"); cmd.Raw != want {
			t.Fatalf("Raw %q, want %q", cmd.Raw, want)
		}
		if !strings.Contains(body, cmd.Raw) {
			t.Fatalf("Raw %q is not in the body", cmd.Raw)
		}
		// After a blank line and a quote, the line continues the quote
		// (unless raw HTML before it, which blank lines may not end, holds
		// both).
		if !strings.Contains(body[:starts[i]], "<") {
			quoted := body[:starts[i]] + "\n> quoted text\n" + body[starts[i]:]
			if got, found := Parse(quoted); found && got.Line <= cmd.Line+2 {
				t.Fatalf("line %d is a command after a quote: %+v", cmd.Line+2, got)
			}
		}
		checkFields(t, cmd)

		// The first command: nothing before its line holds one, and what
		// follows its line does not matter.
		if before, found := Parse(body[:starts[i]]); found {
			t.Fatalf("the lines before line %d hold %+v", cmd.Line, before)
		}
		if upTo, found := Parse(body[:nexts[i]]); !found || upTo != cmd {
			t.Fatalf("the body up to line %d parses as %+v, %v; want %+v", cmd.Line, upTo, found, cmd)
		}
		// Raw alone is the same command.
		alone, found := Parse(cmd.Raw)
		if want := cmd; !found || alone != withLine(want, 1) {
			t.Fatalf("Raw alone parses as %+v, %v; want %+v", alone, found, withLine(want, 1))
		}
		// Line endings do not matter.
		if !strings.Contains(body, "\r") {
			if crlf, found := Parse(strings.ReplaceAll(body, "\n", "\r\n")); !found || crlf != cmd {
				t.Fatalf("with CRLF endings: %+v, %v; want %+v", crlf, found, cmd)
			}
		}

		// Nothing is a command in code, in quotes or in HTML comments.
		fence := strings.Repeat("`", longestRun(body, '`')+3)
		hidden := map[string]string{
			"fenced":   fence + "\n" + body + "\n" + fence,
			"quoted":   mapLines(body, func(l string) string { return "> " + l }),
			"nested":   mapLines(body, func(l string) string { return ">> " + l }),
			"indented": "\n" + mapLines(body, func(l string) string { return "    " + l }),
			"comment":  "<!--\n" + strings.ReplaceAll(body, ">", "") + "\n-->",
		}
		for name, wrapped := range hidden {
			if got, found := Parse(wrapped); found {
				t.Fatalf("%s body holds %+v", name, got)
			}
		}
	})
}

func withLine(c Command, line int) Command {
	c.Line = line
	return c
}

// checkFields checks that each kind sets exactly its fields, well formed.
func checkFields(t *testing.T, cmd Command) {
	t.Helper()
	switch cmd.Kind {
	case Commit:
		if !lowerSHA.MatchString(cmd.SHA) || cmd.Image != "" || cmd.Tag != "" || cmd.Policy != "" {
			t.Fatalf("bad commit command %+v", cmd)
		}
	case Image, ImageToTag:
		ref, err := reference.Parse(cmd.Image)
		if _, named := ref.(reference.Named); err != nil || !named || ref.String() != cmd.Image || cmd.SHA != "" {
			t.Fatalf("bad image in %+v (%v)", cmd, err)
		}
		if (cmd.Kind == ImageToTag) != (cmd.Tag != "") {
			t.Fatalf("tag %q on a %v command", cmd.Tag, cmd.Kind)
		}
	case Resume:
		if cmd.SHA != "" || cmd.Tag != "" || cmd.Image != "" && cmd.Policy != "" {
			t.Fatalf("bad resume command %+v", cmd)
		}
		if cmd.Image != "" {
			ref, err := reference.Parse(cmd.Image)
			if _, named := ref.(reference.Named); err != nil || !named || ref.String() != cmd.Image {
				t.Fatalf("bad image in %+v (%v)", cmd, err)
			}
		}
		if cmd.Policy != "" && strings.Count(cmd.Policy, ":") != 1 {
			t.Fatalf("bad policy in %+v", cmd)
		}
	case Here, Help, Status, Unknown:
		if cmd.SHA != "" || cmd.Image != "" || cmd.Tag != "" || cmd.Policy != "" {
			t.Fatalf("fields set on a %v command: %+v", cmd.Kind, cmd)
		}
	default:
		t.Fatalf("kind %d", int(cmd.Kind))
	}
	words := strings.Fields(cmd.Raw)
	if cmd.Kind == Here && len(words) != 1 {
		t.Fatalf("Here with arguments: %q", cmd.Raw)
	}
}

func longestRun(s string, c byte) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}
