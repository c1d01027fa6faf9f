package demo

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestKeepPrompt plays a newcomer's session on the prompt of --keep, fed on
// stdin: a new release, its Roll back button, a comment, a merge; each
// command reports what flux-rollback did, and its log lines go to the file
// the demo names.
func TestKeepPrompt(t *testing.T) {
	input := strings.Join([]string{
		"help",
		"release gcr.io/track-compliance/api-js master-1234567",
		"click",
		"comment 2 /rollback status",
		"show 2",
		"merge 2",
		"prs",
		"frobnicate",
		"release gcr.io/track-compliance/api-js",
		"quit",
		"release gcr.io/track-compliance/api-js master-7654321", // after quit: never run
	}, "\n") + "\n"
	var out strings.Builder
	if err := Run(context.Background(), Options{Out: &out, Keep: true, In: strings.NewReader(input)}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Commands (as a person, alice",
		`Flux pushed `, `"Auto-release gcr.io/track-compliance/api-js:master-1234567"`,
		"check run ", "Rollback on ", "[Roll back]",
		`alice pressed "Roll back" on check run `, "flux-rollback answered 200",
		"pull request #2: Roll back api-js to master-26a4b87",
		"alice commented on #2: flux-rollback answered 200",
		"flux-rollback[bot] replied:",
		"#2 Roll back api-js to master-26a4b87 (revert ",
		"+  newTag: master-26a4b87",
		"alice merged #2: main is now ",
		"#2 [merged] Roll back api-js to master-26a4b87 (revert ",
		`unknown command "frobnicate"; type help`,
		"usage: release <image> <tag>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the session does not show %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "master-7654321") {
		t.Error("a command after quit ran")
	}
	// Links point at the embedded GitHub.
	github := regexp.MustCompile(`embedded GitHub\s+(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(text)
	if github == nil || !strings.Contains(text, github[1]+"/repos/acme/deploy/pulls/2") {
		t.Errorf("no link to the pull request on the embedded GitHub:\n%s", text)
	}
	logFile := regexp.MustCompile(`server log\s+(\S+)`).FindStringSubmatch(text)
	if logFile == nil {
		t.Fatalf("the log file is not named:\n%s", text)
	}
	defer os.Remove(logFile[1])
	logs, err := os.ReadFile(logFile[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"github_event_type":"check_run"`, `"github_event_type":"issue_comment"`, `"message":"HTTP request"`} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("the server log lacks %s", want)
		}
	}
}
