package release

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// edit is one file a test commit modifies, as its old and new content.
type edit struct {
	path, old, new string
}

// gitPatch returns the diff of old to new the way GitHub's commit API gives
// it: git's own unified diff hunks, without the file header.
func gitPatch(t testing.TB, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(new), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "-c", "core.autocrlf=false", "diff", "--no-index", "--no-color", "-U3", a, b)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("git diff: %v", err)
	}
	diff := string(out)
	at := strings.Index(diff, "\n@@ ")
	if at < 0 {
		t.Fatalf("git diff of identical files:\n%s", diff)
	}
	return strings.TrimSuffix(diff[at+1:], "\n")
}

// modified turns edits into the files of a commit.
func modified(t testing.TB, edits ...edit) []File {
	t.Helper()
	var files []File
	for _, e := range edits {
		files = append(files, File{Path: e.path, Status: "modified", Patch: gitPatch(t, e.old, e.new)})
	}
	return files
}
