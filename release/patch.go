package release

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GitHub's commit API gives a file's diff as bare unified-diff hunks, without
// the "---"/"+++" file header that diff parsers such as sourcegraph/go-diff
// expect before hunks, and detection needs only line kinds and line numbers.
// The format is small and fixed, so it is parsed here, strictly: a hunk whose
// line counts disagree with its header is an error, never a guess.

// lineKind is the first byte of a hunk line.
type lineKind byte

const (
	lineContext lineKind = ' '
	lineRemoved lineKind = '-'
	lineAdded   lineKind = '+'
)

// hunkLine is one line of a hunk, without its kind byte.
type hunkLine struct {
	Kind lineKind
	Text string // the line as in the file, without the newline ("\r" kept)
	// OldLine and NewLine are the 1-based line numbers on each side; 0 on the
	// side the line does not exist.
	OldLine, NewLine int
	// NoNewline is set when git marked the line "\ No newline at end of file".
	NoNewline bool
}

// hunk is one "@@ -a,b +c,d @@" section of a patch.
type hunk struct {
	OldStart, OldLines int
	NewStart, NewLines int
	Section            string // text after the closing "@@", as git printed it
	Lines              []hunkLine
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d{1,9})(?:,(\d{1,9}))? \+(\d{1,9})(?:,(\d{1,9}))? @@(.*)$`)

// parsePatch parses the hunks of one file's patch as GitHub's commit API
// returns it.
func parsePatch(patch string) ([]hunk, error) {
	if patch == "" {
		return nil, nil
	}
	lines := strings.Split(patch, "\n")
	if lines[len(lines)-1] == "" {
		// A trailing newline after the last hunk line ends it; it is not an
		// extra empty line.
		lines = lines[:len(lines)-1]
	}
	var hunks []hunk
	for i := 0; i < len(lines); {
		m := hunkHeader.FindStringSubmatch(lines[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: want a hunk header \"@@ -a,b +c,d @@\", got %q", i+1, truncate(lines[i]))
		}
		h := hunk{
			OldStart: atoi(m[1]), OldLines: countOrOne(m[2]),
			NewStart: atoi(m[3]), NewLines: countOrOne(m[4]),
			Section: m[5],
		}
		i++
		oldLeft, newLeft := h.OldLines, h.NewLines
		oldNo, newNo := h.OldStart, h.NewStart
		for oldLeft > 0 || newLeft > 0 {
			if i == len(lines) {
				return nil, fmt.Errorf("hunk %q: ends with %d old and %d new lines missing", truncate(lines[0]), oldLeft, newLeft)
			}
			text := lines[i]
			kind := lineContext
			if text != "" {
				// An empty line stands for an empty context line: some tools
				// strip the space git puts before it.
				kind = lineKind(text[0])
				text = text[1:]
			}
			switch kind {
			case lineContext:
				if oldLeft == 0 || newLeft == 0 {
					return nil, fmt.Errorf("line %d: context line beyond the hunk's counts", i+1)
				}
				h.Lines = append(h.Lines, hunkLine{Kind: kind, Text: text, OldLine: oldNo, NewLine: newNo})
				oldNo, newNo, oldLeft, newLeft = oldNo+1, newNo+1, oldLeft-1, newLeft-1
			case lineRemoved:
				if oldLeft == 0 {
					return nil, fmt.Errorf("line %d: removed line beyond the hunk's counts", i+1)
				}
				h.Lines = append(h.Lines, hunkLine{Kind: kind, Text: text, OldLine: oldNo})
				oldNo, oldLeft = oldNo+1, oldLeft-1
			case lineAdded:
				if newLeft == 0 {
					return nil, fmt.Errorf("line %d: added line beyond the hunk's counts", i+1)
				}
				h.Lines = append(h.Lines, hunkLine{Kind: kind, Text: text, NewLine: newNo})
				newNo, newLeft = newNo+1, newLeft-1
			case '\\':
				if len(h.Lines) == 0 {
					return nil, fmt.Errorf("line %d: %q before any hunk line", i+1, truncate(lines[i]))
				}
				h.Lines[len(h.Lines)-1].NoNewline = true
			default:
				return nil, fmt.Errorf("line %d: unknown hunk line kind %q", i+1, string(rune(kind)))
			}
			i++
		}
		// The marker may follow the hunk's last line.
		if i < len(lines) && strings.HasPrefix(lines[i], `\`) {
			if len(h.Lines) == 0 {
				return nil, fmt.Errorf("line %d: %q in an empty hunk", i+1, truncate(lines[i]))
			}
			h.Lines[len(h.Lines)-1].NoNewline = true
			i++
		}
		hunks = append(hunks, h)
	}
	return hunks, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // the header pattern admits only up to 9 digits
	return n
}

func countOrOne(s string) int {
	if s == "" {
		return 1
	}
	return atoi(s)
}

func truncate(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
