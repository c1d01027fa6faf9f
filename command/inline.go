package command

import "strings"

// scanComments follows HTML comments through text, starting inside one if
// open, and reports whether one is still open at its end. "<!-->" and
// "<!--->" are complete comments, as in HTML and CommonMark.
func scanComments(text string, open bool) bool {
	for {
		if open {
			i := strings.Index(text, "-->")
			if i < 0 {
				return true
			}
			text, open = text[i+3:], false
			continue
		}
		i := strings.Index(text, "<!--")
		if i < 0 {
			return false
		}
		text, open = text[i+2:], true
	}
}

// inlineState is a code span or HTML comment opened inside a paragraph.
type inlineState struct {
	comment bool // after "<!--"
	ticks   int  // after a run of this many backticks
}

func (st inlineState) open() bool { return st.comment || st.ticks > 0 }

// scanInline follows code spans and HTML comments through a line of a
// paragraph, as CommonMark reads them: leftmost first, a code span closed by
// a run of exactly as many backticks, a comment by "-->", backslash escapes
// outside both. Either may span lines. One still open when its paragraph
// ends was plain text after all; until then it hides the lines it covers.
func scanInline(text string, st inlineState) inlineState {
	for i := 0; i < len(text); {
		switch {
		case st.comment:
			j := strings.Index(text[i:], "-->")
			if j < 0 {
				return st
			}
			i, st.comment = i+j+3, false
		case st.ticks > 0:
			j := strings.IndexByte(text[i:], '`')
			if j < 0 {
				return st
			}
			n := runLength(text, i+j, '`')
			if i = i + j + n; n == st.ticks {
				st.ticks = 0
			}
		default:
			j := strings.IndexAny(text[i:], "\\`<")
			if j < 0 {
				return st
			}
			i += j
			switch {
			case text[i] == '\\' && i+1 < len(text) && isASCIIPunct(text[i+1]):
				i += 2
			case text[i] == '`':
				st.ticks = runLength(text, i, '`')
				i += st.ticks
			case strings.HasPrefix(text[i:], "<!--"):
				// From the second dash, so that "<!-->" and "<!--->"
				// close at once, as CommonMark and HTML have it.
				i, st.comment = i+2, true
			default:
				i++
			}
		}
	}
	return st
}

// firstUncovered reads the code spans and comments of a whole paragraph as
// CommonMark does (leftmost first; an opener with no closer in the paragraph
// is plain text) and returns the index of the first offset that none of
// them covers, or -1. offsets are increasing line starts in text.
//
// It stays linear: a closing backtick run is looked up in per-length lists
// of runs with pointers that only move forward, and a failed search for
// "-->" is remembered, as every later one would fail too.
func firstUncovered(text string, offsets []int) int {
	type run struct{ pos, n int }
	var runs []run
	byLength := make(map[int][]int) // run indices by run length
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '`')
		if j < 0 {
			break
		}
		n := runLength(text, i+j, '`')
		byLength[n] = append(byLength[n], len(runs))
		runs = append(runs, run{i + j, n})
		i += j + n
	}
	nextOfLength := make(map[int]int)  // position in byLength[n] already passed
	closer := func(n, after int) int { // the first run of length n with index > after
		list, k := byLength[n], nextOfLength[n]
		for k < len(list) && list[k] <= after {
			k++
		}
		nextOfLength[n] = k
		if k == len(list) {
			return -1
		}
		return list[k]
	}
	noCommentEnd := len(text) // from here on, no "-->"
	current := 0              // index of the first run not left of i

	next := 0 // offsets[next] is the first not yet passed
	for i := 0; i < len(text); {
		j := strings.IndexAny(text[i:], "\\`<")
		if j < 0 {
			break
		}
		j += i
		if next < len(offsets) && offsets[next] <= j {
			return next // reached with nothing open
		}
		start, end := j, -1
		switch {
		case text[j] == '\\':
			i = j + 1
			if j+1 < len(text) && isASCIIPunct(text[j+1]) {
				i = j + 2
			}
			continue
		case text[j] == '`':
			for runs[current].pos+runs[current].n <= j {
				current++
			}
			n := runs[current].pos + runs[current].n - j // an escaped backtick may start the run
			if c := closer(n, current); c >= 0 {
				end = runs[c].pos + n
			} else {
				i = j + n
				continue
			}
		case strings.HasPrefix(text[j:], "<!--") && j+2 < noCommentEnd:
			if c := strings.Index(text[j+2:], "-->"); c >= 0 {
				end = j + 2 + c + 3
			} else {
				noCommentEnd = j + 2
				i = j + 1
				continue
			}
		default:
			i = j + 1
			continue
		}
		for next < len(offsets) && offsets[next] < end {
			if offsets[next] < start {
				return next
			}
			next++ // covered
		}
		i = end
	}
	if next < len(offsets) {
		return next
	}
	return -1
}

func runLength(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}
