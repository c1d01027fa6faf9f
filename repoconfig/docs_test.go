package repoconfig

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// yamlBlock matches the fenced YAML examples of the documentation.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestDocumentedExamplesParse keeps the examples in docs/configuration.md
// valid: every example file (a block starting with `version:`) must parse
// strictly, and every example problem must be what Parse reports.
func TestDocumentedExamplesParse(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, m := range yamlBlock.FindAllSubmatch(doc, -1) {
		block := m[1]
		if !strings.HasPrefix(string(block), "version:") {
			continue
		}
		files++
		if _, err := Parse(block, DefaultConfig()); err != nil {
			t.Errorf("documented example does not parse:\n%s\n%v", block, err)
		}
	}
	if files < 3 {
		t.Errorf("found %d example files in the documentation, want at least 3", files)
	}

	examples := map[string]string{
		"line 4: pull_request.lables: unknown key; known keys here: labels, draft, reviewers, team_reviewers":                         "version: 1\npull_request:\n  draft: true\n  lables: [rollback]\n",
		"line 7: detection.message_patterns[0]: not a valid regular expression: error parsing regexp: missing closing ): `^deploy (`": "version: 1\ndetection:\n  authors:\n    - deploy-bot\n    - deploy-bot@example.com\n  message_patterns:\n    - '^deploy ('\n",
		"version: missing: add `version: 1` at the top of the file":                                                                   "minimum_role: admin\n",
		"line 2: branches: want a list of strings (like [a, b]), got the string `staging`":                                            "version: 1\nbranches: staging\n",
	}
	for want, file := range examples {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the documentation no longer shows %q", want)
		}
		_, err := Parse([]byte(file), DefaultConfig())
		if err == nil || err.Error() != want {
			t.Errorf("Parse() = %v, want the documented %q", err, want)
		}
	}
}
