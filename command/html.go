package command

import (
	"regexp"
	"strings"
)

// rawState is what raw HTML read so far leaves open, as a browser reads it:
// a comment ("<!--" to "-->"), a bogus comment ("<?" or "<!" to ">"), and
// elements that hide text.
type rawState struct {
	closer string // ends an open comment or bogus comment
	open   elements
}

func (st rawState) hiding() bool { return st.closer != "" || st.open.total > 0 }

// scanRaw reads one more line of raw HTML.
func scanRaw(text string, st rawState) rawState {
	for i := 0; i < len(text); {
		if st.closer != "" {
			j := strings.Index(text[i:], st.closer)
			if j < 0 {
				return st
			}
			i, st.closer = i+j+len(st.closer), ""
			continue
		}
		j := strings.IndexByte(text[i:], '<')
		if j < 0 {
			return st
		}
		i += j
		switch {
		case strings.HasPrefix(text[i:], "<!--"):
			// From the second dash, so that "<!-->" and "<!--->" close at
			// once, as HTML has it.
			i, st.closer = i+2, "-->"
		case strings.HasPrefix(text[i:], "<!"), strings.HasPrefix(text[i:], "<?"):
			i, st.closer = i+2, ">"
		default:
			st.open.tag(text[i:])
			i++
		}
	}
	return st
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

// elements counts the open elements of each hiding kind: a closing tag
// closes only its own kind.
type elements struct {
	open  [len(hidingTags)]int
	total int
}

// tag reads the tag that s may start with.
func (e *elements) tag(s string) {
	closing := strings.HasPrefix(s, "</")
	name, after := tagName(s[1:])
	if closing {
		name, after = tagName(s[2:])
	}
	k, ok := hidingTagIndex[strings.ToLower(name)]
	if !ok || (after != "" && !isBlank(after[0]) && after[0] != '>' && after[0] != '/') {
		return
	}
	switch {
	case !closing:
		e.open[k]++
		e.total++
	case e.open[k] > 0:
		e.open[k]--
		e.total--
	}
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
