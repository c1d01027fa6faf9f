package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoPlaysTheRollback(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Out: &out}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Auto-release gcr.io/track-compliance/api-js:master-26a4b87",
		"api-js master-f01225d -> master-26a4b87", // the check run's title
		"[Roll back]",
		"Pull request #1: Roll back api-js to master-f01225d",
		"rollback-",
		"-  newTag: master-26a4b87",
		"+  newTag: master-f01225d",
		"    Revert \"Auto-release gcr.io/track-compliance/api-js:master-26a4b87\"",
		"main is untouched",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("colours written to a non-terminal")
	}
}
