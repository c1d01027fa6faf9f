package command

import (
	"sort"
	"strings"
)

// This file decides which lines of a comment GitHub shows as text, following
// the block structure of CommonMark (which GitHub renders) the way its
// reference implementations build it: a stack of open block quotes and list
// items that each line must continue, new blocks that may start inside them,
// and paragraphs that continue lazily.
//
// It is written here rather than taken from a Markdown library because a
// command must be found in linear time in bodies of up to 65536 characters,
// and full Markdown parsers have had super-linear cases, goldmark among them
// (yuin/goldmark#555); only block structure, code spans and raw HTML matter
// here. A command line is a line of a paragraph, or of raw HTML, that begins
// with /rollback after at most three spaces; it is not a command when it is
// in:
//
//   - fenced code (``` or ~~~, any length and info string, closed by a fence
//     of the same character at least as long) or indented code;
//   - a block quote, nested or not, including the lines that continue a
//     quoted paragraph lazily ("> text" then an unmarked line);
//   - a code span (`...`) that runs across lines of a paragraph;
//   - an HTML comment, a processing instruction or declaration (<? ...>,
//     <! ...>), or an element that shows code or quotes (<pre>, <code>,
//     <blockquote>, ...; see hidingTags), read in raw HTML the way a browser
//     reads it. When raw HTML leaves one of these open, the rest of the
//     comment is taken as hidden, as it mostly is in the rendered page.
//
// Not followed: link reference definitions, and inline HTML tags or link
// titles that span lines.

// leafKind is the open leaf block that the next line may continue.
type leafKind int

const (
	noLeaf leafKind = iota
	paragraph
	fencedCode   // until a closing fence
	indentedCode // until a line indented less than 4 columns
	htmlBlock    // raw HTML, until its end marker or a blank line
)

// container is an open block quote or list item.
type container struct {
	quote bool
	// width is the indentation, in columns, that continues a list item.
	width int
	// empty is a list item that has had no content yet: a blank line ends it.
	empty bool
}

// scanner reads a comment one line at a time and reports the lines that
// begin with a command.
type scanner struct {
	containers []container
	quotes     []int // indices of the block quotes in containers, increasing

	leaf      leafKind
	fenceChar byte
	fenceLen  int
	// htmlEnd is the marker that ends the HTML block: "" for a blank line,
	// rawHTMLTags for an end tag of <pre>, <script>, <style> or <textarea>.
	htmlEnd string
	// html is what the raw HTML so far leaves open.
	html rawState
	// swallowed is raw HTML, in a block or inline, that left a comment, a
	// tag or a hiding element open: nothing after it is taken as text.
	swallowed bool

	// quotedParagraph is an open paragraph inside a block quote.
	quotedParagraph bool
	// paragraphText is the open paragraph so far, one line after another.
	paragraphText strings.Builder
	// pending are the command lines of the open paragraph: whether a code
	// span or raw HTML covers one is known when the paragraph ends.
	pending []pendingLine
	// found is a command line found when its paragraph ended.
	found *hit
}

// hit is a line that begins with a command.
type hit struct {
	number int    // 1-based line number
	line   string // the line without its ending
	at     int    // offset of "/rollback" in line
}

// pendingLine is a command line of the open paragraph.
type pendingLine struct {
	offset int // in paragraphText
	hit    hit
}

// cursor is a place in a line: an offset and the column it stands for. A
// tab only partly taken by a container leaves the offset on the tab and the
// column inside it.
type cursor struct{ pos, col int }

// next reads line number n (without its line ending) and returns it if it
// is a command line in raw HTML. A command line in a paragraph is held until
// the paragraph ends; it is then in found, which comes before whatever next
// returns.
func (s *scanner) next(line string, n int) (hit, bool) {
	if s.swallowed {
		return hit{}, false
	}
	var at cursor
	matched := s.matchContainers(line, &at)
	all := matched == len(s.containers)
	_, restPos := indentation(line, at.pos, at.col)
	blank := restPos == len(line)

	// Leaf blocks that take the line as it is while their containers go on.
	if all {
		switch s.leaf {
		case fencedCode:
			if s.closesFence(line, at) {
				s.closeLeaf()
			}
			return hit{}, false
		case htmlBlock:
			if s.htmlEnd == "" && blank {
				s.closeLeaf()
				return hit{}, false
			}
			h, ok := s.htmlLine(line, at, n)
			if s.htmlEnd != "" && s.endsRawHTML(line[at.pos:]) {
				s.closeLeaf()
			}
			return h, ok
		case indentedCode:
			if col, _ := indentation(line, at.pos, at.col); blank || col-at.col >= 4 {
				return hit{}, false
			}
			s.closeLeaf()
		}
	}

	// New blocks, containers first.
	started := false
	start := func() {
		s.closeUnmatched(matched)
		s.closeLeaf()
		matched, started = len(s.containers), true
	}
	breaks := thematicBreaks{line: line}
	for {
		col, pos := indentation(line, at.pos, at.col)
		if pos == len(line) {
			break
		}
		if col-at.col >= 4 {
			if s.leaf != paragraph {
				start()
				s.leaf = indentedCode
				return hit{}, false
			}
			break
		}
		text := line[pos:]
		inParagraph := s.leaf == paragraph && matched == len(s.containers)
		if text[0] == '>' {
			start()
			s.quotes = append(s.quotes, len(s.containers))
			s.containers = append(s.containers, container{quote: true})
			matched = len(s.containers)
			at = cursor{pos + 1, col + 1}
			at.skipColumn(line)
			continue
		}
		if isATXHeading(text) {
			start()
			// A heading's text is inline content, like a paragraph's.
			if _, leftOpen := firstUncovered(text, nil); leftOpen {
				s.swallowed = true
			}
			return hit{}, false
		}
		if c, n, ok := fenceOpening(text); ok {
			start()
			s.leaf, s.fenceChar, s.fenceLen = fencedCode, c, n
			return hit{}, false
		}
		// Kind 7 HTML can neither interrupt a paragraph nor stop a lazy
		// continuation line.
		if end, ok := htmlBlockStart(text, s.leaf == paragraph); ok {
			start()
			s.leaf, s.htmlEnd = htmlBlock, end
			s.html = scanRaw(text, rawState{})
			if end != "" && s.endsRawHTML(text) {
				s.closeLeaf()
			}
			return hit{}, false
		}
		if inParagraph && isSetextUnderline(text) {
			s.closeLeaf() // the paragraph is a heading
			return hit{}, false
		}
		if breaks.at(pos) {
			start()
			return hit{}, false
		}
		if item, content, ok := listItem(line, cursor{pos, col}, col-at.col, inParagraph); ok {
			start()
			s.containers = append(s.containers, item)
			matched = len(s.containers)
			at = content
			continue
		}
		break
	}

	if !started && !all && s.leaf == paragraph && !blank {
		return s.paragraphLine(line, restPos, n) // lazy continuation
	}
	s.closeUnmatched(matched)
	if s.swallowed {
		return hit{}, false // closing raw HTML left a comment open
	}
	_, pos := indentation(line, at.pos, at.col)
	if pos == len(line) {
		if s.leaf == paragraph {
			s.closeLeaf()
		}
		return hit{}, false
	}
	if s.leaf != paragraph {
		s.closeLeaf()
		s.leaf, s.quotedParagraph = paragraph, len(s.quotes) > 0
	}
	return s.paragraphLine(line, pos, n)
}

// matchContainers advances at past the markers and indentation of the open
// containers that line continues, and returns how many it continues. The
// rest of a line being blank continues list items (but ends one that is
// still empty) and ends block quotes.
func (s *scanner) matchContainers(line string, at *cursor) int {
	for m := range s.containers {
		c := &s.containers[m]
		col, pos := indentation(line, at.pos, at.col)
		if pos == len(line) {
			// Found by search rather than walked, so that blank lines in
			// deep lists cost no more than other lines.
			end := len(s.containers)
			if q := sort.SearchInts(s.quotes, m); q < len(s.quotes) {
				end = s.quotes[q]
			}
			if end == len(s.containers) && s.containers[end-1].empty {
				end--
			}
			at.pos, at.col = pos, col
			return end
		}
		if c.quote {
			if col-at.col > 3 || line[pos] != '>' {
				return m
			}
			*at = cursor{pos + 1, col + 1}
			at.skipColumn(line)
			continue
		}
		if col-at.col < c.width {
			return m
		}
		at.advance(line, at.col+c.width)
		c.empty = false
	}
	return len(s.containers)
}

// paragraphLine adds the text at line[pos] to the open paragraph, and holds
// the line if it is a command line.
func (s *scanner) paragraphLine(line string, pos, n int) (hit, bool) {
	text := line[pos:]
	if col, start := indentation(line, 0, 0); start == pos && col <= 3 && !s.quotedParagraph && startsCommand(text) {
		s.pending = append(s.pending, pendingLine{s.paragraphText.Len(), hit{n, line, pos}})
	}
	s.paragraphText.WriteString(text)
	s.paragraphText.WriteByte('\n')
	return hit{}, false
}

// htmlLine reads a line of raw HTML, which shows text where a browser would.
func (s *scanner) htmlLine(line string, at cursor, n int) (hit, bool) {
	hidden := s.html.hiding()
	s.html = scanRaw(line[at.pos:], s.html)
	col, pos := indentation(line, 0, 0)
	if !hidden && len(s.quotes) == 0 && col <= 3 && startsCommand(line[pos:]) {
		return hit{n, line, pos}, true
	}
	return hit{}, false
}

// closeUnmatched closes the containers after the first matched ones, and
// the leaf block inside them.
func (s *scanner) closeUnmatched(matched int) {
	if matched == len(s.containers) {
		return
	}
	s.containers = s.containers[:matched]
	for len(s.quotes) > 0 && s.quotes[len(s.quotes)-1] >= matched {
		s.quotes = s.quotes[:len(s.quotes)-1]
	}
	s.closeLeaf()
}

// closeLeaf closes the open leaf block. A paragraph then tells which of its
// command lines nothing covers; raw HTML that leaves something open hides
// everything after it.
func (s *scanner) closeLeaf() {
	switch s.leaf {
	case paragraph:
		offsets := make([]int, len(s.pending))
		for i, p := range s.pending {
			offsets[i] = p.offset
		}
		i, leftOpen := firstUncovered(s.paragraphText.String(), offsets)
		if i >= 0 && s.found == nil {
			s.found = &s.pending[i].hit
		}
		if leftOpen {
			s.swallowed = true
		}
		s.pending = nil
		s.paragraphText.Reset()
	case htmlBlock:
		if s.html.hiding() {
			s.swallowed = true
		}
		s.html = rawState{}
	}
	s.leaf = noLeaf
}

// closesFence reports whether the line closes the open fence: the same
// character, at least as many, indented at most 3 columns, and nothing after
// but blanks.
func (s *scanner) closesFence(line string, at cursor) bool {
	col, pos := indentation(line, at.pos, at.col)
	if col-at.col > 3 {
		return false
	}
	n := runLength(line, pos, s.fenceChar)
	return n >= s.fenceLen && strings.Trim(line[pos+n:], " \t") == ""
}

// indentation returns the column and offset of the first character of line
// from pos on that is not a space or tab, counting tab stops of 4 columns
// from column col at pos.
func indentation(line string, pos, col int) (int, int) {
	for ; pos < len(line); pos++ {
		switch line[pos] {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
		default:
			return col, pos
		}
	}
	return col, pos
}

// advance moves the cursor over blanks up to column target, stopping inside
// a tab if the target falls there.
func (c *cursor) advance(line string, target int) {
	for c.col < target && c.pos < len(line) {
		switch line[c.pos] {
		case ' ':
			c.pos++
			c.col++
		case '\t':
			stop := c.col + 4 - c.col%4
			if stop > target {
				c.col = target
				return
			}
			c.pos++
			c.col = stop
		default:
			return
		}
	}
}

// skipColumn takes the one optional blank column after a block quote or
// list marker.
func (c *cursor) skipColumn(line string) {
	if c.pos < len(line) && (line[c.pos] == ' ' || line[c.pos] == '\t') {
		c.advance(line, c.col+1)
	}
}

// listItem reads a list item marker ("-", "+", "*", "1." or "1)") at start,
// indented by indent columns within its container, and returns the item and
// where its content begins. In a paragraph, only an item with content, and
// of an ordered list only one starting at 1, can begin.
func listItem(line string, start cursor, indent int, inParagraph bool) (container, cursor, bool) {
	end, ordered, one := listMarker(line, start.pos)
	if end < 0 || (end < len(line) && !isBlank(line[end])) {
		return container{}, cursor{}, false
	}
	marker := cursor{end, start.col + end - start.pos}
	col, pos := indentation(line, marker.pos, marker.col)
	empty := pos == len(line)
	if inParagraph && (empty || (ordered && !one)) {
		return container{}, cursor{}, false
	}
	spaces := col - marker.col
	content := cursor{pos, col}
	if empty || spaces > 4 {
		// The content is one column after the marker; more blanks make it
		// indented code.
		spaces = 1
		content = marker
		content.skipColumn(line)
	}
	if empty {
		content = cursor{len(line), col}
	}
	return container{width: indent + end - start.pos + spaces, empty: empty}, content, true
}

// listMarker returns the end of the list marker at line[pos], or -1, whether
// it is ordered, and whether an ordered list starts at 1.
func listMarker(line string, pos int) (int, bool, bool) {
	if pos >= len(line) {
		return -1, false, false
	}
	switch line[pos] {
	case '-', '+', '*':
		return pos + 1, false, false
	}
	n, value := 0, 0
	for pos+n < len(line) && n < 10 && '0' <= line[pos+n] && line[pos+n] <= '9' {
		value = value*10 + int(line[pos+n]-'0')
		n++
	}
	if n == 0 || n > 9 || pos+n >= len(line) || (line[pos+n] != '.' && line[pos+n] != ')') {
		return -1, false, false
	}
	return pos + n + 1, true, value == 1
}

// fenceOpening reports whether text opens a fenced code block, and with
// which character and how many of them.
func fenceOpening(text string) (byte, int, bool) {
	if text == "" || (text[0] != '`' && text[0] != '~') {
		return 0, 0, false
	}
	c := text[0]
	n := runLength(text, 0, c)
	if n < 3 || (c == '`' && strings.IndexByte(text[n:], '`') >= 0) {
		return 0, 0, false
	}
	return c, n, true
}

// thematicBreaks tells whether the rest of a line from an offset on is a
// thematic break (three or more of the same "-", "_" or "*", with only
// blanks between and after). A line of nested list markers asks at every
// marker, so one pass finds, for each character, the last offset that rules
// it out, and each question is answered from there.
type thematicBreaks struct {
	line      string
	lastOther [3]int // for "-", "_", "*": the last offset holding another non-blank
	done      bool
}

func (b *thematicBreaks) at(pos int) bool {
	k := strings.IndexByte("-_*", b.line[pos])
	if k < 0 {
		return false
	}
	if !b.done {
		b.lastOther, b.done = [3]int{-1, -1, -1}, true
		for i := 0; i < len(b.line); i++ {
			for j := range 3 {
				if b.line[i] != "-_*"[j] && !isBlank(b.line[i]) {
					b.lastOther[j] = i
				}
			}
		}
	}
	// Counting only happens when the rest holds nothing but the character
	// and blanks; then it is a break, or at most two markers are left.
	return b.lastOther[k] < pos && strings.Count(b.line[pos:], b.line[pos:pos+1]) >= 3
}

func isATXHeading(text string) bool {
	n := runLength(text, 0, '#')
	return n >= 1 && n <= 6 && (n == len(text) || isBlank(text[n]))
}

// isSetextUnderline reports whether text, after a paragraph, turns it into a
// heading: only "=" or only "-", then blanks.
func isSetextUnderline(text string) bool {
	c := text[0]
	if c != '=' && c != '-' {
		return false
	}
	n := runLength(text, 0, c)
	return strings.Trim(text[n:], " \t") == ""
}
