package demo

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestKeepPrompt plays a newcomer's session on the prompt of --keep, fed on
// stdin, after the demo: a new release, its Roll back button, a comment, a
// merge; each
// command reports what flux-rollback did, and its log lines go to the file
// the demo names.
func TestKeepPrompt(t *testing.T) {
	input := strings.Join([]string{
		"help",
		"release gcr.io/track-compliance/api-js master-1234567",
		"click",
		"comment 3 /rollback status",
		"show 3",
		"merge 3",
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
		// The demo left #1 (the rollback, merged) and #2 (its resume).
		"pull request #3: Roll back api-js to master-f01225d",
		"alice commented on #3: flux-rollback answered 200",
		"flux-rollback[bot] replied:",
		"Flux's image automation is held on `main` for:",
		"#3 Roll back api-js to master-f01225d (revert ",
		"+  newTag: master-f01225d",
		"alice merged #3: main is now ",
		"#3 [merged] Roll back api-js to master-f01225d (revert ",
		"#2 [open] Resume Flux image automation for api-js",
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
	if github == nil || !strings.Contains(text, github[1]+"/repos/acme/deploy/pulls/3") {
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
