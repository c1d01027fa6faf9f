package rollback

import "bytes"

// maxLineDiff bounds the lines compared after the common start and end of
// two versions are set aside; beyond it every line in between counts as
// changed (image releases change a few lines, so this never happens in
// practice, and holding too many lines holds nothing wrong: only markers).
const maxLineDiff = 2000

// changedLines lists, 1-based, the lines of after that are not in a longest
// common subsequence of the lines of before and after: the lines a change
// from before to after writes. A nil before makes every line changed.
func changedLines(before, after []byte) []int {
	a, b := splitLines(before), splitLines(after)
	prefix := 0
	for prefix < len(a) && prefix < len(b) && bytes.Equal(a[prefix], b[prefix]) {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && bytes.Equal(a[len(a)-1-suffix], b[len(b)-1-suffix]) {
		suffix++
	}
	a, b = a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	var out []int
	if len(a) > maxLineDiff || len(b) > maxLineDiff {
		for i := range b {
			out = append(out, prefix+i+1)
		}
		return out
	}
	// lcs[i][j] is the length of a longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if bytes.Equal(a[i], b[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for j < len(b) {
		switch {
		case i < len(a) && bytes.Equal(a[i], b[j]):
			i++
			j++
		case i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			out = append(out, prefix+j+1)
			j++
		}
	}
	return out
}

// splitLines cuts content after each newline; a last line without one is a
// line too.
func splitLines(content []byte) [][]byte {
	var lines [][]byte
	for len(content) > 0 {
		i := bytes.IndexByte(content, '\n')
		if i < 0 {
			lines = append(lines, content)
			break
		}
		lines = append(lines, content[:i+1])
		content = content[i+1:]
	}
	return lines
}
