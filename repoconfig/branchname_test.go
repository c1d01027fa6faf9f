package repoconfig

import (
	"os/exec"
	"strings"
	"testing"
)

// TestValidBranchNameAgreesWithGit asks the git binary about every name as
// refs/heads/<name>; `git branch` refuses a leading '-' on top of that.
func TestValidBranchNameAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the git binary is needed as the oracle: %v", err)
	}
	names := []string{
		"main", "rollback-", "rollback-0123abc", "release/v1", "a/b/c", "feature.x", "x.y.z",
		"", "@", "-x", "x.", "x..y", "x@{y", "a b", "a\tb", "a~1", "a^", "a:b", "a?", "a*", "a[b", `a\b`,
		"/a", "a/", "a//b", ".a", "a/.b", "a.lock", "a/b.lock", "a.lock/b", "a@b", "@a", "a-", "a/-b",
		"x\x7f", "ü", "rollback/", "HEAD", "a.", "lock", ".lock",
	}
	for _, name := range names {
		want := exec.Command("git", "check-ref-format", "refs/heads/"+name).Run() == nil && !strings.HasPrefix(name, "-")
		if got := validBranchName(name); got != want {
			t.Errorf("validBranchName(%q) = %v; git check-ref-format --branch says %v", name, got, want)
		}
	}
}
