package release

import (
	"strings"
	"testing"
)

func TestParseYAMLLine(t *testing.T) {
	cases := map[string]struct {
		text string
		want yamlLine // Text is filled in from text
	}{
		"blank":   {"   ", yamlLine{Blank: true, Dash: -1, Indent: 3}},
		"comment": {"  # note", yamlLine{Blank: true, Dash: -1, Indent: 2}},
		"open key": {"images:", yamlLine{Dash: -1, Key: "images", HasKey: true, Open: true,
			ValueStart: 7, ValueEnd: 7}},
		"open key with comment": {"  image: # the app", yamlLine{Dash: -1, Indent: 2, Key: "image", HasKey: true, Open: true,
			ValueStart: 9, ValueEnd: 9, Comment: " the app"}},
		"item with plain value": {"- name: gcr.io/a/b", yamlLine{Dash: 0, Indent: 2, Key: "name", HasKey: true,
			Value: "gcr.io/a/b", ValueStart: 8, ValueEnd: 18, Scalar: true}},
		"registry port stays in a plain value": {"    image: localhost:5000/web:1.0", yamlLine{Dash: -1, Indent: 4, Key: "image", HasKey: true,
			Value: "localhost:5000/web:1.0", ValueStart: 11, ValueEnd: 33, Scalar: true}},
		"double quoted with setter": {`  tag: "1.0" # {"$imagepolicy": "a:b:tag"}`, yamlLine{Dash: -1, Indent: 2, Key: "tag", HasKey: true,
			Value: "1.0", ValueStart: 7, ValueEnd: 12, Quote: '"', Scalar: true, Comment: ` {"$imagepolicy": "a:b:tag"}`}},
		"single quoted with escaped quote": {`t: 'it''s'`, yamlLine{Dash: -1, Key: "t", HasKey: true,
			Value: "it's", ValueStart: 3, ValueEnd: 10, Quote: '\'', Scalar: true}},
		"carriage return is not part of the value": {"tag: v1\r", yamlLine{Dash: -1, Key: "tag", HasKey: true,
			Value: "v1", ValueStart: 5, ValueEnd: 7, Scalar: true}},
		"hash inside a value is no comment": {"a: b#c", yamlLine{Dash: -1, Key: "a", HasKey: true,
			Value: "b#c", ValueStart: 3, ValueEnd: 6, Scalar: true}},
		"flow mapping is not a scalar": {"image: {repository: a, tag: b}", yamlLine{Dash: -1, Key: "image", HasKey: true,
			ValueStart: 7, ValueEnd: 7}},
		"block scalar is not a scalar": {"script: |", yamlLine{Dash: -1, Key: "script", HasKey: true, ValueStart: 8, ValueEnd: 8}},
		"text after a quoted value":    {`a: "b" c`, yamlLine{Dash: -1, Key: "a", HasKey: true, ValueStart: 3, ValueEnd: 3}},
		"plain list item":              {"  - deployment.yaml", yamlLine{Dash: 2, Indent: 4}},
		"quoted key":                   {`"app.kubernetes.io/name": web`, yamlLine{Dash: -1, Key: "app.kubernetes.io/name", HasKey: true, Value: "web", ValueStart: 26, ValueEnd: 29, Scalar: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			want := tc.want
			want.Text = tc.text
			if got := parseYAMLLine(tc.text); got != want {
				t.Fatalf("parseYAMLLine(%q) =\n%+v\nwant\n%+v", tc.text, got, want)
			}
		})
	}
}

func TestWithValueKeepsEverythingElse(t *testing.T) {
	cases := map[string]struct{ text, value, want string }{
		"plain":                {"    newTag: master-26a4b87", "master-f01225d", "    newTag: master-f01225d"},
		"double quotes":        {`  tag: "3.2.0"  # pinned`, "3.1.0", `  tag: "3.1.0"  # pinned`},
		"single quotes":        {"  tag: '3.2.0'\r", "it's", "  tag: 'it''s'\r"},
		"escapes in a quote":   {`x: "a"`, `b"c\d`, `x: "b\"c\\d"`},
		"marker comment stays": {`- image: a:1 # {"$imagepolicy": "ns:a"}`, "a:0", `- image: a:0 # {"$imagepolicy": "ns:a"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := parseYAMLLine(tc.text)
			if !l.Scalar {
				t.Fatalf("%q: no scalar value", tc.text)
			}
			got := l.withValue(tc.value)
			if got != tc.want {
				t.Fatalf("withValue(%q) = %q, want %q", tc.value, got, tc.want)
			}
			if back := parseYAMLLine(got); back.Value != tc.value {
				t.Fatalf("the new line reads back as %q, want %q", back.Value, tc.value)
			}
		})
	}
}

func TestSplitLinesKeepsEveryByte(t *testing.T) {
	for _, s := range []string{"", "a", "a\n", "a\r\nb", "\n\n", "a\nb\n"} {
		if got := strings.Join(splitLines(s), ""); got != s {
			t.Errorf("splitLines(%q) joins to %q", s, got)
		}
	}
}
