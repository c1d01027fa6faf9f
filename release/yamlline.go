package release

import (
	"strings"
)

// A diff shows only fragments of a YAML file, which no YAML parser accepts,
// so detection reads YAML one line at a time: indentation, an optional "- "
// item marker, a key, a single-line scalar value and a trailing comment. That
// is the whole shape of the lines image automation rewrites. Restore uses the
// same reader to find the exact bytes of a value it replaces.

// yamlLine is one line of YAML split into its parts.
type yamlLine struct {
	Text string // the line without its "\n" ("\r" kept)
	// Blank is set for empty and comment-only lines.
	Blank bool
	// Dash is the column of the first "- " item marker, or -1.
	Dash int
	// Indent is the column of the key (after any item markers), or of the
	// content on lines without a key.
	Indent int
	// Key is the mapping key; HasKey is false on lines without one.
	Key    string
	HasKey bool
	// Value is the scalar value, unquoted; ValueStart and ValueEnd delimit
	// its raw text, quotes included, in Text. ValueEnd == ValueStart when the
	// key has no value on this line.
	Value                string
	ValueStart, ValueEnd int
	// Quote is the quote character of the value, or 0 for a plain scalar.
	Quote byte
	// Scalar is set when the value is a complete single-line scalar (plain or
	// quoted), the only kind image automation writes.
	Scalar bool
	// Open is set on a key with no value on its line: a nested mapping or
	// sequence follows.
	Open bool
	// Comment is the text after "#" of a trailing comment, "" when none.
	Comment string
}

// parseYAMLLine splits one line. It never fails: lines that are not
// "key: scalar" come back with HasKey or Scalar unset.
func parseYAMLLine(text string) yamlLine {
	l := yamlLine{Text: text, Dash: -1}
	body := strings.TrimSuffix(text, "\r")
	i := 0
	for i < len(body) && body[i] == ' ' {
		i++
	}
	if i == len(body) || body[i] == '#' {
		l.Blank = true
		l.Indent = i
		return l
	}
	for i < len(body) && body[i] == '-' && (i+1 == len(body) || body[i+1] == ' ') {
		if l.Dash < 0 {
			l.Dash = i
		}
		i++
		for i < len(body) && body[i] == ' ' {
			i++
		}
	}
	l.Indent = i
	keyEnd, ok := scanKey(body, i)
	if !ok {
		return l
	}
	l.Key = unquoteKey(body[i:keyEnd])
	l.HasKey = true
	j := keyEnd + 1 // past ':'
	for j < len(body) && (body[j] == ' ' || body[j] == '\t') {
		j++
	}
	l.ValueStart, l.ValueEnd = j, j
	if j == len(body) {
		l.Open = true
		return l
	}
	if body[j] == '#' {
		l.Open = true
		l.Comment = body[j+1:]
		return l
	}
	end, value, quote, ok := scanScalar(body, j)
	if !ok {
		return l
	}
	rest := body[end:]
	trimmed := strings.TrimLeft(rest, " \t")
	switch {
	case trimmed == "":
	case trimmed[0] == '#' && len(trimmed) < len(rest):
		l.Comment = trimmed[1:]
	default:
		return l // something follows the value: not a plain one-line scalar
	}
	l.ValueEnd, l.Value, l.Quote, l.Scalar = end, value, quote, true
	return l
}

// scanKey finds the ':' that ends a mapping key starting at i.
func scanKey(s string, i int) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch s[i] {
	case '"', '\'':
		end, _, _, ok := scanQuoted(s, i)
		if !ok || end >= len(s) || s[end] != ':' || (end+1 < len(s) && s[end+1] != ' ' && s[end+1] != '\t') {
			return 0, false
		}
		return end, true
	case '{', '[', '&', '*', '!', '|', '>', '%', '@', '`', '?':
		return 0, false
	}
	for j := i; j < len(s); j++ {
		switch s[j] {
		case ':':
			if j+1 == len(s) || s[j+1] == ' ' || s[j+1] == '\t' {
				return j, j > i
			}
		case '#':
			if j > i && s[j-1] == ' ' {
				return 0, false
			}
		}
	}
	return 0, false
}

func unquoteKey(k string) string {
	if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') {
		_, v, _, _ := scanQuoted(k, 0)
		return v
	}
	return k
}

// scanScalar reads a single-line scalar starting at i and returns where its
// raw text ends, its value and its quote character.
func scanScalar(s string, i int) (end int, value string, quote byte, ok bool) {
	switch s[i] {
	case '"', '\'':
		return scanQuoted(s, i)
	case '{', '[', '&', '*', '!', '|', '>', '%', '@', '`':
		// Flow collections, anchors, aliases, tags, block scalars and
		// reserved indicators: not a value image automation writes.
		return 0, "", 0, false
	}
	end = len(s)
	for j := i + 1; j < len(s); j++ {
		if s[j] == '#' && (s[j-1] == ' ' || s[j-1] == '\t') {
			end = j
			break
		}
	}
	raw := strings.TrimRight(s[i:end], " \t")
	if strings.Contains(raw, ": ") || strings.HasSuffix(raw, ":") {
		return 0, "", 0, false // a nested "a: b: c" is not valid YAML
	}
	return i + len(raw), raw, 0, true
}

// scanQuoted reads a quoted scalar starting at the quote s[i].
func scanQuoted(s string, i int) (end int, value string, quote byte, ok bool) {
	quote = s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case quote == '\'' && c == '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			return j + 1, b.String(), quote, true
		case quote == '"' && c == '"':
			return j + 1, b.String(), quote, true
		case quote == '"' && c == '\\':
			if j+1 == len(s) {
				return 0, "", 0, false
			}
			r, ok := unescapeDouble(s[j+1])
			if !ok {
				// \x, \u and friends never appear in image references;
				// refusing them keeps the reader simple and exact.
				return 0, "", 0, false
			}
			b.WriteByte(r)
			j++
		default:
			b.WriteByte(c)
		}
	}
	return 0, "", 0, false
}

func unescapeDouble(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 't':
		return '\t', true
	case 'n':
		return '\n', true
	}
	return 0, false
}

// quoteScalar renders value in the quoting style quote: 0 (plain), a double
// or a single quote.
func quoteScalar(value string, quote byte) string {
	switch quote {
	case '"':
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\n", `\n`)
		return `"` + r.Replace(value) + `"`
	case '\'':
		return `'` + strings.ReplaceAll(value, `'`, `''`) + `'`
	}
	return value
}

// withValue returns the line with its value replaced by value, in the same
// quoting style, every other byte unchanged.
func (l yamlLine) withValue(value string) string {
	return l.Text[:l.ValueStart] + quoteScalar(value, l.Quote) + l.Text[l.ValueEnd:]
}

// splitLines splits content into lines, each keeping its "\n".
func splitLines(content string) []string {
	var lines []string
	for content != "" {
		n := strings.IndexByte(content, '\n')
		if n < 0 {
			lines = append(lines, content)
			break
		}
		lines = append(lines, content[:n+1])
		content = content[n+1:]
	}
	return lines
}
