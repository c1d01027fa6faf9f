package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoPlaysTheRollbackHoldAndResume(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Out: &out}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Update from image update automation",
		"api-js master-f01225d -> master-26a4b87", // the check run's title
		"[Roll back]",
		"Pull request #1: Roll back api-js to master-f01225d",
		"labels           flux-rollback:hold",
		// The first commit: the revert.
		"    Revert \"Update from image update automation\"",
		"-  newTag: master-26a4b87 # {\"$imagepolicy\": \"flux-system:api:tag\"}",
		"+  newTag: master-f01225d # {\"$imagepolicy\": \"flux-system:api:tag\"}",
		// The second: the hold, marker text only.
		"    Hold Flux image automation for api-js",
		"-  newTag: master-f01225d # {\"$imagepolicy\": \"flux-system:api:tag\"}",
		"+  newTag: master-f01225d # {\"$flux-rollback-hold\": \"flux-system:api:tag\"",
		// Merged: held, and resumed in one click.
		"Held: api-js at master-f01225d",
		"[Resume automation]",
		"#2: Resume Flux image automation for api-js",
		"+        image: gcr.io/track-compliance/api-js:master-f01225d # {\"$imagepolicy\": \"flux-system:api\"}",
		"byte for byte",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("colours written to a non-terminal")
	}
}
