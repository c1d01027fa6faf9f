package repoconfig

import "strings"

// validBranchName reports whether git accepts name as a branch name, by the
// rules of git-check-ref-format(1) applied to refs/heads/<name>: no
// component starting with '.' or ending in ".lock", no "..", no control
// characters, space, '~', '^', ':', '?', '*', '[' or '\', no empty component
// (leading, trailing or doubled '/'), no trailing '.' and no "@{"; and, as
// `git branch` adds, not starting with '-'. The rules are short and stable, so they are written
// here rather than taken from a git implementation.
func validBranchName(name string) bool {
	if name == "" || strings.HasPrefix(name, "-") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
