package command

import (
	"regexp"
	"strings"
)

// This file decides which lines of a comment GitHub shows as plain text,
// following the block structure of CommonMark (which GitHub renders).
//
// It is written here rather than taken from a Markdown library because a
// command must be found in linear time in bodies of up to 65536 characters,
// and full Markdown parsers (inline parsing included) have had super-linear
// cases, goldmark among them (yuin/goldmark#555). Only block structure
// matters here, and it can be followed one line at a time:
//
//   - Fenced code (``` or ~~~, any length and info string) runs to a fence of
//     the same character at least as long, or to the end of the comment.
//   - Indented code (4 or more columns after a blank line) and every other
//     line indented that far cannot hold a command.
//   - A block quote line ("> ...", nested or after list markers) is quoted,
//     and so are the unmarked lines that directly follow it: Markdown
//     continues a quoted paragraph lazily until a blank line.
//   - HTML comments hide text: an HTML block starting with "<!--" runs to
//     "-->", and so does a comment inside a paragraph or raw HTML. A comment
//     that raw HTML leaves open hides the rest of the comment, as it does in
//     the rendered page.
//   - Code spans (`...`) that run across lines of a paragraph hide the lines
//     they cover.
//   - Raw HTML blocks of <pre>, <script>, <style>, <textarea>, processing
//     instructions, declarations and CDATA are not text; other raw HTML
//     blocks (<details>, <img ...>) show their text and may hold a command.
//
// List items are not tracked as containers, except that a fence or an HTML
// block opened right after list markers ("- ```") ends with its list item,
// when a line is indented less than the item's content. Where this reading
// and GitHub's could differ, it errs towards ignoring a line.

// blockKind is the multi-line block that the next line may continue.
type blockKind int

const (
	noBlock    blockKind = iota
	fencedCode           // until a closing fence
	rawHTML              // HTML that is not text (kinds 1 to 5), until its end marker
	htmlText             // HTML that shows text (kinds 6 and 7), until a blank line
)

// scanner reads a comment one line at a time and reports the lines that
// begin with a command.
type scanner struct {
	block     blockKind
	fenceChar byte
	fenceLen  int
	// htmlEnd is the marker that ends a rawHTML block; rawHTMLTags means
	// any closing tag of <pre>, <script>, <style> or <textarea>.
	htmlEnd string
	// container is the column where the content of the list item starts,
	// for a block opened right after list markers; 0 otherwise.
	container int
	// htmlComment is a "<!--" in raw HTML not yet closed.
	htmlComment bool

	// paragraph is an open paragraph: indented lines continue it, and
	// HTML that is not a known block cannot interrupt it.
	paragraph bool
	// inline is a code span or HTML comment that the open paragraph has
	// opened and not yet closed.
	inline inlineState
	// paragraphText is the open paragraph so far, one line after another.
	paragraphText strings.Builder
	// pending are command lines of the open paragraph that a code span or
	// comment may cover: whether one does is known when the paragraph ends.
	pending []pendingLine
	// found is a command line found when its paragraph ended.
	found *hit
	// quoted is an open paragraph inside a block quote, which unmarked
	// lines continue.
	quoted bool

	// swallowed is raw HTML that left a comment open: nothing after it is
	// shown.
	swallowed bool
}

// hit is a line that begins with a command.
type hit struct {
	number int    // 1-based line number
	line   string // the line without its ending
	at     int    // offset of "/rollback" in line
}

// pendingLine is a command line of a paragraph whose visibility depends on
// how the paragraph's code spans and comments resolve.
type pendingLine struct {
	offset int // in paragraphText
	hit    hit
}

// rawHTMLTags stands for the end of a <pre>, <script>, <style> or <textarea>
// block.
const rawHTMLTags = "</pre|script|style|textarea>"

// next reads line number n (without its line ending) and returns it if it
// is a command line. A command line that a code span or comment might hide
// is held until its paragraph ends; it is then in found, which comes before
// whatever next returns.
func (s *scanner) next(line string, n int) (hit, bool) {
	if s.swallowed {
		return hit{}, false
	}
	col, pos := indentation(line, 0, 0)
	blank := pos == len(line)

	// A block opened after list markers ends with its list item.
	if s.block != noBlock && s.container > 0 && !blank && col < s.container {
		s.endBlock()
		if s.swallowed {
			return hit{}, false
		}
	}
	switch s.block {
	case fencedCode:
		if s.closesFence(line, col, pos) {
			s.block = noBlock
		}
		return hit{}, false
	case rawHTML:
		s.htmlComment = scanComments(line, s.htmlComment)
		if s.endsRawHTML(line) {
			s.endBlock()
		}
		return hit{}, false
	case htmlText:
		if blank {
			s.endBlock()
			return hit{}, false
		}
		commented := s.htmlComment
		s.htmlComment = scanComments(line, s.htmlComment)
		if !commented && col <= 3 && startsCommand(line[pos:]) {
			return hit{n, line, pos}, true
		}
		return hit{}, false
	}

	if blank {
		s.endParagraph()
		return hit{}, false
	}
	if col >= 4 {
		// Indented code, or a line that continues a paragraph.
		if s.paragraph && !s.quoted {
			s.addToParagraph(line[pos:])
		}
		return hit{}, false
	}
	text := line[pos:]
	switch {
	case isThematicBreak(text), isATXHeading(text):
		s.endParagraph()
		return hit{}, false
	case s.paragraph && !s.quoted && isSetextUnderline(text):
		s.endParagraph()
		return hit{}, false
	case text[0] == '>':
		s.startQuote()
		return hit{}, false
	case s.opensBlock(line, pos, 0):
		return hit{}, false
	}
	if at, col, ok := listContent(line, pos, col, s.paragraph); ok {
		if line[at] == '>' {
			s.startQuote()
			return hit{}, false
		}
		if s.opensBlock(line, at, col) {
			return hit{}, false
		}
		// A list item interrupts the paragraph (and a quote's lazy one);
		// its content starts a new one.
		s.endParagraph()
		s.paragraph = true
		s.addToParagraph(line[at:])
		return hit{}, false
	}
	if s.quoted {
		return hit{}, false // lazily continues the quote
	}
	if startsCommand(text) {
		if !s.inline.open() {
			return hit{n, line, pos}, true
		}
		s.pending = append(s.pending, pendingLine{s.paragraphText.Len(), hit{n, line, pos}})
	}
	s.paragraph = true
	s.addToParagraph(text)
	return hit{}, false
}

func (s *scanner) addToParagraph(text string) {
	s.paragraphText.WriteString(text)
	s.paragraphText.WriteByte('\n')
	s.inline = scanInline(text, s.inline)
}

// endParagraph closes the open paragraph, and finds the first of its
// command lines that no code span or comment covers.
func (s *scanner) endParagraph() {
	if len(s.pending) > 0 && s.found == nil {
		offsets := make([]int, len(s.pending))
		for i, p := range s.pending {
			offsets[i] = p.offset
		}
		if i := firstUncovered(s.paragraphText.String(), offsets); i >= 0 {
			s.found = &s.pending[i].hit
		}
	}
	s.pending = nil
	s.paragraphText.Reset()
	s.paragraph, s.inline, s.quoted = false, inlineState{}, false
}

func (s *scanner) startQuote() {
	s.endParagraph()
	s.paragraph, s.quoted = true, true
}

// endBlock closes the open block. Raw HTML that leaves a comment open hides
// everything after it.
func (s *scanner) endBlock() {
	if s.block != fencedCode && s.htmlComment {
		s.swallowed = true
	}
	s.block, s.container, s.htmlComment = noBlock, 0, false
	s.endParagraph()
}

// opensBlock opens a fenced code or HTML block if one starts at line[at],
// whose column is container (0 when not after list markers).
func (s *scanner) opensBlock(line string, at, container int) bool {
	text := line[at:]
	if c, n, ok := fenceOpening(text); ok {
		s.endParagraph()
		s.block, s.fenceChar, s.fenceLen, s.container = fencedCode, c, n, container
		return true
	}
	// Kind 7 HTML cannot interrupt a paragraph, but can start a list item.
	kind, end, ok := htmlBlockStart(text, s.paragraph && container == 0)
	if !ok {
		return false
	}
	s.endParagraph()
	s.block, s.htmlEnd, s.container = kind, end, container
	s.htmlComment = scanComments(text, false)
	if kind == rawHTML && s.endsRawHTML(text) {
		s.endBlock()
	}
	return true
}

// closesFence reports whether line closes the open fence: the same
// character, at least as many, indented at most 3 columns within its
// container, and nothing after but blanks.
func (s *scanner) closesFence(line string, col, pos int) bool {
	if col < s.container || col-s.container > 3 {
		return false
	}
	n := 0
	for pos+n < len(line) && line[pos+n] == s.fenceChar {
		n++
	}
	return n >= s.fenceLen && strings.Trim(line[pos+n:], " \t") == ""
}

func (s *scanner) endsRawHTML(line string) bool {
	if s.htmlEnd != rawHTMLTags {
		return strings.Contains(line, s.htmlEnd)
	}
	lower := strings.ToLower(line)
	for _, tag := range []string{"</pre>", "</script>", "</style>", "</textarea>"} {
		if strings.Contains(lower, tag) {
			return true
		}
	}
	return false
}

// indentation returns the column and offset of the first character of line
// after pos that is not a space or tab, counting tab stops of 4 columns from
// column col at pos.
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

// scanComments follows HTML comments through text, starting inside one if
// open, and reports whether one is still open at its end. "<!-->" and
// "<!--->" are complete comments, as in HTML and CommonMark.
func scanComments(text string, open bool) bool {
	for {
		if open {
			i := strings.Index(text, "-->")
			if i < 0 {
				return true
			}
			text, open = text[i+3:], false
			continue
		}
		i := strings.Index(text, "<!--")
		if i < 0 {
			return false
		}
		text, open = text[i+2:], true
	}
}

// inlineState is a code span or HTML comment opened inside a paragraph.
type inlineState struct {
	comment bool // after "<!--"
	ticks   int  // after a run of this many backticks
}

func (st inlineState) open() bool { return st.comment || st.ticks > 0 }

// scanInline follows code spans and HTML comments through a line of a
// paragraph, as CommonMark reads them: leftmost first, a code span closed by
// a run of exactly as many backticks, a comment by "-->", backslash escapes
// outside both. Either may span lines. One still open when its paragraph
// ends was plain text after all; until then it hides the lines it covers.
func scanInline(text string, st inlineState) inlineState {
	for i := 0; i < len(text); {
		switch {
		case st.comment:
			j := strings.Index(text[i:], "-->")
			if j < 0 {
				return st
			}
			i, st.comment = i+j+3, false
		case st.ticks > 0:
			j := strings.IndexByte(text[i:], '`')
			if j < 0 {
				return st
			}
			n := runLength(text, i+j, '`')
			if i = i + j + n; n == st.ticks {
				st.ticks = 0
			}
		default:
			j := strings.IndexAny(text[i:], "\\`<")
			if j < 0 {
				return st
			}
			i += j
			switch {
			case text[i] == '\\' && i+1 < len(text) && isASCIIPunct(text[i+1]):
				i += 2
			case text[i] == '`':
				st.ticks = runLength(text, i, '`')
				i += st.ticks
			case strings.HasPrefix(text[i:], "<!--"):
				// From the second dash, so that "<!-->" and "<!--->"
				// close at once, as CommonMark and HTML have it.
				i, st.comment = i+2, true
			default:
				i++
			}
		}
	}
	return st
}

// firstUncovered reads the code spans and comments of a whole paragraph as
// CommonMark does (leftmost first; an opener with no closer in the paragraph
// is plain text) and returns the index of the first offset that none of
// them covers, or -1. offsets are increasing line starts in text.
//
// It stays linear: a closing backtick run is looked up in per-length lists
// of runs with pointers that only move forward, and a failed search for
// "-->" is remembered, as every later one would fail too.
func firstUncovered(text string, offsets []int) int {
	type run struct{ pos, n int }
	var runs []run
	byLength := make(map[int][]int) // run indices by run length
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '`')
		if j < 0 {
			break
		}
		n := runLength(text, i+j, '`')
		byLength[n] = append(byLength[n], len(runs))
		runs = append(runs, run{i + j, n})
		i += j + n
	}
	nextOfLength := make(map[int]int)  // position in byLength[n] already passed
	closer := func(n, after int) int { // the first run of length n with index > after
		list, k := byLength[n], nextOfLength[n]
		for k < len(list) && list[k] <= after {
			k++
		}
		nextOfLength[n] = k
		if k == len(list) {
			return -1
		}
		return list[k]
	}
	noCommentEnd := len(text) // from here on, no "-->"
	current := 0              // index of the first run not left of i

	next := 0 // offsets[next] is the first not yet passed
	for i := 0; i < len(text); {
		j := strings.IndexAny(text[i:], "\\`<")
		if j < 0 {
			break
		}
		j += i
		if next < len(offsets) && offsets[next] <= j {
			return next // reached with nothing open
		}
		start, end := j, -1
		switch {
		case text[j] == '\\':
			i = j + 1
			if j+1 < len(text) && isASCIIPunct(text[j+1]) {
				i = j + 2
			}
			continue
		case text[j] == '`':
			for runs[current].pos+runs[current].n <= j {
				current++
			}
			n := runs[current].pos + runs[current].n - j // an escaped backtick may start the run
			if c := closer(n, current); c >= 0 {
				end = runs[c].pos + n
			} else {
				i = j + n
				continue
			}
		case strings.HasPrefix(text[j:], "<!--") && j+2 < noCommentEnd:
			if c := strings.Index(text[j+2:], "-->"); c >= 0 {
				end = j + 2 + c + 3
			} else {
				noCommentEnd = j + 2
				i = j + 1
				continue
			}
		default:
			i = j + 1
			continue
		}
		for next < len(offsets) && offsets[next] < end {
			if offsets[next] < start {
				return next
			}
			next++ // covered
		}
		i = end
	}
	if next < len(offsets) {
		return next
	}
	return -1
}

func runLength(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

// fenceOpening reports whether text opens a fenced code block, and with
// which character and how many of them.
func fenceOpening(text string) (byte, int, bool) {
	if text == "" || (text[0] != '`' && text[0] != '~') {
		return 0, 0, false
	}
	c, n := text[0], 0
	for n < len(text) && text[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.IndexByte(text[n:], '`') >= 0) {
		return 0, 0, false
	}
	return c, n, true
}

// isThematicBreak reports whether text is three or more of the same "-", "_"
// or "*", with only blanks between and after.
func isThematicBreak(text string) bool {
	c, n := text[0], 0
	if c != '-' && c != '_' && c != '*' {
		return false
	}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

func isATXHeading(text string) bool {
	n := 0
	for n < len(text) && text[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && (n == len(text) || isBlank(text[n]))
}

// isSetextUnderline reports whether text, after a paragraph, turns it into a
// heading: only "=" or only "-", then blanks.
func isSetextUnderline(text string) bool {
	c := text[0]
	if c != '=' && c != '-' {
		return false
	}
	n := 0
	for n < len(text) && text[n] == c {
		n++
	}
	return strings.Trim(text[n:], " \t") == ""
}

// listContent skips the list item markers ("-", "+", "*", "1." or "1)"
// followed by 1 to 4 columns of blanks) that start line at pos, column col,
// and returns the offset and column of the item's content. It reports false
// when there is no marker, or the content is empty or indented code. In a
// paragraph, only a list starting at 1 can begin.
func listContent(line string, pos, col int, inParagraph bool) (int, int, bool) {
	found := false
	for {
		end, ordered, one := listMarker(line, pos)
		if end < 0 || (!found && inParagraph && ordered && !one) {
			return pos, col, found
		}
		markerCol := col + end - pos
		contentCol, content := indentation(line, end, markerCol)
		if content == end {
			return pos, col, found // not a marker: the content of the item before
		}
		if content == len(line) || contentCol-markerCol > 4 {
			return pos, col, false // an empty item, or indented code
		}
		pos, col, found = content, contentCol, true
	}
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

// htmlBlockStart reports whether text starts an HTML block (CommonMark's
// seven kinds), and which. Kind 7, any lone complete tag, cannot interrupt a
// paragraph.
func htmlBlockStart(text string, inParagraph bool) (blockKind, string, bool) {
	if text == "" || text[0] != '<' {
		return noBlock, "", false
	}
	switch {
	case strings.HasPrefix(text, "<!--"):
		return rawHTML, "-->", true
	case strings.HasPrefix(text, "<?"):
		return rawHTML, "?>", true
	case strings.HasPrefix(text, "<![CDATA["):
		return rawHTML, "]]>", true
	case len(text) > 2 && text[1] == '!' && isASCIILetter(text[2]):
		return rawHTML, ">", true
	}
	name, after := tagName(text[1:])
	if rawHTMLTagNames[strings.ToLower(name)] && (after == "" || isBlank(after[0]) || after[0] == '>') {
		return rawHTML, rawHTMLTags, true
	}
	if strings.HasPrefix(text, "</") {
		name, after = tagName(text[2:])
	}
	if blockTagNames[strings.ToLower(name)] &&
		(after == "" || after[0] == ' ' || after[0] == '\t' || after[0] == '>' || strings.HasPrefix(after, "/>")) {
		return htmlText, "", true
	}
	// CommonMark's prose leaves <pre> and the like out of kind 7, but its
	// reference implementations (cmark, which GitHub uses, and commonmark.js)
	// take a lone "</pre>" or "<pre/>" as kind 7, and so does this.
	if !inParagraph && loneTag.MatchString(text) {
		return htmlText, "", true
	}
	return noBlock, "", false
}

// tagName splits an HTML tag name off the start of s.
func tagName(s string) (string, string) {
	if s == "" || !isASCIILetter(s[0]) {
		return "", s
	}
	n := 1
	for n < len(s) && (isASCIILetter(s[n]) || '0' <= s[n] && s[n] <= '9' || s[n] == '-') {
		n++
	}
	return s[:n], s[n:]
}

func isASCIILetter(c byte) bool { return 'a' <= lowerASCII(c) && lowerASCII(c) <= 'z' }

// loneTag is a complete open or closing tag alone on its line, as
// CommonMark's HTML blocks of kind 7 begin. Go's regexp runs in linear time.
var loneTag = regexp.MustCompile(`^(?:<[A-Za-z][A-Za-z0-9-]*` +
	`(?:[ \t]+[A-Za-z_:][A-Za-z0-9_.:-]*(?:[ \t]*=[ \t]*(?:[^ \t\r\n"'=<>` + "`" + `]+|'[^']*'|"[^"]*"))?)*` +
	`[ \t]*/?>|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*$`)

var rawHTMLTagNames = map[string]bool{"pre": true, "script": true, "style": true, "textarea": true}

// blockTagNames are the tags that start HTML blocks of kind 6 in CommonMark
// 0.31.2.
var blockTagNames = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range strings.Fields(`address article aside base basefont blockquote body caption
		center col colgroup dd details dialog dir div dl dt fieldset figcaption figure footer form
		frame frameset h1 h2 h3 h4 h5 h6 head header hr html iframe legend li link main menu
		menuitem nav noframes ol optgroup option p param search section summary table tbody td
		tfoot th thead title tr track ul`) {
		m[name] = true
	}
	return m
}()
