package command

import (
	"regexp"
	"strings"
)

// rawState is what raw HTML read so far leaves open, as a browser reads it:
// a comment ("<!--" to "-->"), a bogus comment ("<?", "<!" or "</" and no
// name, to ">"), a tag not yet ended by its ">" (whose inside is not text),
// and elements that hide text.
type rawState struct {
	closer string // ends an open comment or bogus comment
	tag    tagReader
	open   elements
}

// tagReader follows a start or end tag up to the ">" that ends it, which
// does not count inside a quoted attribute value.
type tagReader struct {
	reading bool // inside a tag
	element int  // index in hidingTags, or -1
	closing bool // an end tag
	quote   byte // the quote of the attribute value being read, or 0
	equals  bool // the last character (not a blank) was "=": a quote opens a value
}

func (st rawState) hiding() bool { return st.closer != "" || st.tag.reading || st.open.total > 0 }

// scanRaw reads one more line of raw HTML.
func scanRaw(text string, st rawState) rawState {
	for i := 0; i < len(text); {
		switch {
		case st.closer != "":
			j := strings.Index(text[i:], st.closer)
			if j < 0 {
				return st
			}
			i, st.closer = i+j+len(st.closer), ""
		case st.tag.reading:
			i = st.readTag(text, i)
		default:
			j := strings.IndexByte(text[i:], '<')
			if j < 0 {
				return st
			}
			i += j
			rest := text[i:]
			switch {
			case strings.HasPrefix(rest, "<!--"):
				// From the second dash, so that "<!-->" and "<!--->" close
				// at once, as HTML has it.
				i, st.closer = i+2, "-->"
			case strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, "<?"),
				strings.HasPrefix(rest, "</") && (len(rest) == 2 || !isASCIILetter(rest[2])):
				i, st.closer = i+2, ">"
			case len(rest) > 1 && isASCIILetter(rest[1]), strings.HasPrefix(rest, "</"):
				element, closing, _ := tagAt(rest)
				st.tag = tagReader{reading: true, element: element, closing: closing}
				i++
			default:
				i++
			}
		}
	}
	return st
}

// readTag reads text[i:] inside a tag, and returns where it stopped: after
// the tag's ">", or at the end of text.
func (st *rawState) readTag(text string, i int) int {
	t := &st.tag
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case t.quote != 0:
			if c == t.quote {
				t.quote = 0
			}
			continue
		case (c == '"' || c == '\'') && t.equals:
			t.quote = c
		case c == '>':
			st.open.apply(t.element, t.closing)
			*t = tagReader{}
			return i + 1
		}
		if !isBlank(c) {
			t.equals = c == '='
		}
	}
	return i
}

// hidingTags are the elements whose text is code, a quote or not shown at
// all: a command inside one is not a command.
var hidingTags = [...]string{
	"pre", "code", "kbd", "samp", "tt", "blockquote", "script", "style", "textarea",
	"xmp", "listing", "plaintext", "template", "noscript",
}

var hidingTagIndex = func() map[string]int {
	m := make(map[string]int)
	for i, name := range hidingTags {
		m[name] = i
	}
	return m
}()

// tagAt reads the name of the start or end tag that s starts with, and
// returns its index in hidingTags (-1 if it is not one), whether it is an
// end tag, and whether s starts with a tag name at all.
func tagAt(s string) (int, bool, bool) {
	closing := strings.HasPrefix(s, "</")
	name, _ := tagName(s[1:])
	if closing {
		name, _ = tagName(s[2:])
	}
	if name == "" {
		return -1, false, false
	}
	if k, ok := hidingTagIndex[strings.ToLower(name)]; ok {
		return k, closing, true
	}
	return -1, closing, true
}

// elements counts the open elements of each hiding kind: an end tag closes
// only its own kind.
type elements struct {
	open  [len(hidingTags)]int
	total int
}

// apply counts a start or end tag of hidingTags[element] (none if -1).
func (e *elements) apply(element int, closing bool) {
	switch {
	case element < 0:
	case !closing:
		e.open[element]++
		e.total++
	case e.open[element] > 0:
		e.open[element]--
		e.total--
	}
}

// tagPattern is CommonMark's open or closing tag, with blank as the pattern
// of its whitespace.
func tagPattern(blank string) string {
	attribute := blank + `+[A-Za-z_:][A-Za-z0-9_.:-]*(?:` + blank + `*=` + blank + `*(?:[^\s"'=<>` + "`" + `]+|'[^']*'|"[^"]*"))?`
	return `(?:<[A-Za-z][A-Za-z0-9-]*(?:` + attribute + `)*` + blank + `*/?>|</[A-Za-z][A-Za-z0-9-]*` + blank + `*>)`
}

// inlineTag matches a start or end tag as CommonMark passes it through as
// raw HTML inside a paragraph, where tags may span lines; anything else
// starting with "<" is text. Go's regexp runs in linear time.
var inlineTag = regexp.MustCompile(`^` + tagPattern(`\s`))

// maxInlineTag bounds how far a tag is looked for, so that many "<" cannot
// each send the regular expression far ahead; no real tag is this long.
const maxInlineTag = 4096

// inlineTagLen returns the length of the CommonMark tag that s starts with,
// or 0.
func inlineTagLen(s string) int {
	if m := inlineTag.FindStringIndex(s[:min(len(s), maxInlineTag)]); m != nil {
		return m[1]
	}
	return 0
}

// rawHTMLTags stands for the end of an HTML block that starts with <pre>,
// <script>, <style> or <textarea>: any of their closing tags.
const rawHTMLTags = "</pre|script|style|textarea>"

func (s *scanner) endsRawHTML(text string) bool {
	if s.htmlEnd != rawHTMLTags {
		return strings.Contains(text, s.htmlEnd)
	}
	lower := strings.ToLower(text)
	for _, tag := range []string{"</pre>", "</script>", "</style>", "</textarea>"} {
		if strings.Contains(lower, tag) {
			return true
		}
	}
	return false
}

// htmlBlockStart reports whether text starts an HTML block (CommonMark's
// seven kinds), and the marker that ends it: "" for a blank line. Kind 7,
// any lone complete tag, cannot interrupt a paragraph.
func htmlBlockStart(text string, inParagraph bool) (string, bool) {
	if text == "" || text[0] != '<' {
		return "", false
	}
	switch {
	case strings.HasPrefix(text, "<!--"):
		return "-->", true
	case strings.HasPrefix(text, "<?"):
		return "?>", true
	case strings.HasPrefix(text, "<![CDATA["):
		return "]]>", true
	case len(text) > 2 && text[1] == '!' && isASCIILetter(text[2]):
		return ">", true
	}
	name, after := tagName(text[1:])
	if rawHTMLTagNames[strings.ToLower(name)] && (after == "" || isBlank(after[0]) || after[0] == '>') {
		return rawHTMLTags, true
	}
	if strings.HasPrefix(text, "</") {
		name, after = tagName(text[2:])
	}
	if blockTagNames[strings.ToLower(name)] &&
		(after == "" || isBlank(after[0]) || after[0] == '>' || strings.HasPrefix(after, "/>")) {
		return "", true
	}
	// CommonMark's prose leaves <pre> and the like out of kind 7, but its
	// reference implementations (cmark, which GitHub uses, and commonmark.js)
	// take a lone "</pre>" or "<pre/>" as kind 7, and so does this.
	if !inParagraph && loneTag.MatchString(text) {
		return "", true
	}
	return "", false
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
// CommonMark's HTML blocks of kind 7 begin.
var loneTag = regexp.MustCompile(`^` + tagPattern(`[ \t]`) + `[ \t]*$`)

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
