package githubapi

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFitBody(t *testing.T) {
	cases := map[string]struct {
		in      string
		cut     bool
		wantLen int // in characters
	}{
		"short":          {"hello", false, 5},
		"at the limit":   {strings.Repeat("a", maxBodyChars), false, maxBodyChars},
		"over the limit": {strings.Repeat("a", maxBodyChars+1), true, maxBodyChars},
		"multibyte":      {strings.Repeat("é", maxBodyChars+10), true, maxBodyChars},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := fitBody(tc.in)
			if n := utf8.RuneCountInString(got); n != tc.wantLen {
				t.Errorf("%d characters, want %d", n, tc.wantLen)
			}
			if !utf8.ValidString(got) {
				t.Error("cut inside a character")
			}
			if strings.HasSuffix(got, truncatedNote) != tc.cut {
				t.Errorf("cut note present = %v, want %v", !tc.cut, tc.cut)
			}
		})
	}
}
