package command

import (
	"strings"
	"testing"
)

// maxBody is the longest comment body GitHub accepts.
const maxBody = 65536

// pathological bodies of about maxBody bytes, each aimed at a part of the
// scanner that could turn super-linear: Parse must stay linear in all.
func pathological() map[string]string {
	fill := func(unit string) string {
		return strings.Repeat(unit, maxBody/len(unit))
	}
	return map[string]string{
		"prose":             fill("The release broke checkout; see the logs.\n"),
		"one long line":     fill("a"),
		"long command":      "/rollback " + fill("a "),
		"comment openers":   fill("<!--"),
		"comment lines":     fill("x <!--\n-->\n"),
		"fence openers":     fill("```\n"),
		"fence runs":        "````````" + fill("`"),
		"unclosed fence":    "```\n" + fill("/rollback abc1234\n"),
		"nested quotes":     fill(">"),
		"quote lines":       fill("> q\n"),
		"list markers":      fill("- ") + "```",
		"ordered markers":   fill("1. "),
		"html tags":         fill("<div>\n"),
		"lone tag attrs":    "<a" + fill(` b="c"`) + ">",
		"pre block":         "<pre>\n" + fill("</pr\n"),
		"blank lines":       fill("\n"),
		"crlf lines":        fill("x\r\n"),
		"indented":          fill("    <!-- ```\n"),
		"thematic breaks":   fill("* * *\n"),
		"commands at end":   fill("> x\n") + "\n/rollback ghcr.io/org/web to 1.2.3",
		"image words":       "/rollback " + fill("a/"),
		"digest-like":       "/rollback a@sha256:" + fill("0"),
		"deep list, blanks": strings.Repeat("- ", maxBody/4) + "x" + strings.Repeat("\n", maxBody/2),
		"deep list, lines":  strings.Repeat("- ", 1000) + "x\n" + fill(strings.Repeat(" ", 40)+"y\n"),
		"deep quote, lines": strings.Repeat(">", 1000) + " x\n" + fill(strings.Repeat(">", 40)+"\n"),
		"nested ordered":    fill("1. "),
		"tabbed markers":    fill("-\t"),
		"code spans":        fill("`a\n/rollback abc1234\n"),
		"html elements":     fill("<pre>\n\n"),
		"inline tags":       "a " + fill("<code>"),
		"raw comments":      "<div>\n" + fill("<!-- a -->"),
	}
}

func BenchmarkParse(b *testing.B) {
	for name, body := range pathological() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Parse(body)
			}
		})
	}
}

// The pathological bodies are also correct inputs: each is parsed to the
// answer its shape implies.
func TestParsePathological(t *testing.T) {
	want := map[string]Kind{
		"long command":    Unknown,
		"commands at end": ImageToTag,
		"image words":     Unknown,
		"digest-like":     Unknown,
		"code spans":      Commit,
	}
	for name, body := range pathological() {
		got, ok := Parse(body)
		kind, wantOK := want[name]
		if ok != wantOK || (ok && got.Kind != kind) {
			t.Errorf("%s: Parse = %v, %v; want %v, %v", name, got.Kind, ok, kind, wantOK)
		}
	}
}
