package markdown

import "testing"

func TestEscape(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":   {"gcr.io/acme/api-js:1.2", "gcr.io/acme/api-js:1.2"},
		"table":   {"a|b", `a\|b`},
		"mention": {"@alice", "@\u200balice"},
		"link":    {"[x](http://e)", `\[x\](http://e)`},
		"issue":   {"fixes #12", `fixes \#12`},
		"emph":    {"*a* _b_ ~c~", `\*a\* \_b\_ \~c\~`},
		"newline": {"a\nb\r\nc", "a b c"},
		"html":    {"<script>", "&lt;script&gt;"},
		"code":    {"`x`", "\\`x\\`"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Escape(c.in); got != c.want {
				t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":    {"d4cc490", "`d4cc490`"},
		"backtick": {"a`b", "`` a`b ``"},
		"newline":  {"a\nb", "`a b`"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Code(c.in); got != c.want {
				t.Errorf("Code(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCodeBlockFenceOutlastsContent(t *testing.T) {
	got := CodeBlock("diff", "```\nx")
	want := "````diff\n```\nx\n````\n"
	if got != want {
		t.Errorf("CodeBlock = %q, want %q", got, want)
	}
}
