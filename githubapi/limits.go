package githubapi

import (
	"unicode/utf8"
)

// maxBodyChars is GitHub's limit on a check run summary or text, a comment
// and a pull request body (65,535 characters in the API's words; counted in
// characters, not bytes). A longer one is refused with 422, which would turn
// a report of a large conflict into a failure; it is cut instead.
const maxBodyChars = 65535

// truncatedNote ends a body that was cut.
const truncatedNote = "\n\n… (cut: the full text is longer than GitHub allows)\n"

// fitBody cuts s to GitHub's body limit, between characters.
func fitBody(s string) string {
	if utf8.RuneCountInString(s) <= maxBodyChars {
		return s
	}
	keep := maxBodyChars - utf8.RuneCountInString(truncatedNote)
	i, n := 0, 0
	for i < len(s) && n < keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + truncatedNote
}
