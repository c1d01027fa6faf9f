// Package markdown escapes text that came from commits and comments before it
// is put into GitHub-flavoured Markdown (check run summaries, pull request
// bodies, replies), so that it shows as written and cannot break the layout,
// ping people or inject links.
package markdown

import (
	"strings"
)

// replacer backslash-escapes the characters that start inline Markdown
// constructs anywhere in a line (emphasis, code, links, images, raw HTML,
// table cells, strikethrough, issue references), turns @-mentions into
// plain text with a zero-width space so nobody is pinged, and folds line
// breaks (a table cell or a title must stay on one line). Characters that
// only mean something at the start of a line (list and heading markers) are
// left alone: escaped text is never placed there.
var replacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"#", `\#`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "~", `\~`,
	"@", "@\u200b", "\r\n", " ", "\n", " ", "\r", " ",
)

// Escape returns s as Markdown that renders as the literal text s on one line.
func Escape(s string) string { return replacer.Replace(s) }

// Code returns s as an inline code span. Backticks inside s are handled by
// choosing a longer fence, as CommonMark specifies; line breaks become spaces.
func Code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || fence != "`" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// CodeBlock returns s as a fenced code block whose fence is longer than any
// run of backticks inside s, so the content cannot close it early.
func CodeBlock(lang, s string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return fence + lang + "\n" + s + fence + "\n"
}
