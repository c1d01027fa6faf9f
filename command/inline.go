package command

import "strings"

// Inside a paragraph or heading, text is hidden by code spans and by inline
// raw HTML: comments, processing instructions, declarations and CDATA
// sections, and elements that show code or quotes (see hidingTags).
// CommonMark reads code spans and raw HTML leftmost first; a code span is
// closed by a run of exactly as many backticks and raw HTML by its end
// marker, both within the paragraph, and an opener left unclosed is plain
// text after all. So whether a line is covered is known only when its
// paragraph ends.

// inlineHTMLOpener returns the end marker of the comment, processing
// instruction, declaration or CDATA section that s starts with, and how far
// into s to start looking for it ("<!-->" and "<!--->" are whole comments).
func inlineHTMLOpener(s string) (string, int) {
	switch {
	case strings.HasPrefix(s, "<!--"):
		return "-->", 2
	case strings.HasPrefix(s, "<?"):
		return "?>", 2
	case strings.HasPrefix(s, "<![CDATA["):
		return "]]>", len("<![CDATA[")
	case len(s) > 2 && s[1] == '!' && isASCIILetter(s[2]):
		return ">", 2
	}
	return "", 0
}

// firstUncovered reads a whole paragraph the way CommonMark does and returns
// the index of the first offset (increasing line starts in text) that no
// code span, raw HTML or hiding element covers, or -1 and whether the
// paragraph leaves a hiding element open.
//
// It stays linear: a closing backtick run is looked up in per-length lists
// of runs with pointers that only move forward, and a failed search for an
// end marker is remembered, as every later one would fail too.
func firstUncovered(text string, offsets []int) (int, bool) {
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
	passed := make(map[int]int)            // how much of byLength[n] lies behind
	closingRun := func(n, after int) int { // the first run of length n with index > after
		list, k := byLength[n], passed[n]
		for k < len(list) && list[k] <= after {
			k++
		}
		passed[n] = k
		if k == len(list) {
			return -1
		}
		return list[k]
	}
	missing := make(map[string]int) // end marker -> no occurrence from here on
	current := 0                    // index of the first run not left of i

	var open elements
	next := 0 // offsets[next] is the first not yet passed
	for i := 0; i < len(text); {
		j := strings.IndexAny(text[i:], "\\`<")
		if j < 0 {
			break
		}
		j += i
		for ; next < len(offsets) && offsets[next] <= j; next++ {
			if open.total == 0 {
				return next, false
			}
		}
		end := -1
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
			if c := closingRun(n, current); c >= 0 {
				end = runs[c].pos + n
			} else {
				i = j + n
				continue
			}
		default:
			closer, skip := inlineHTMLOpener(text[j:])
			if closer == "" {
				n := inlineTagLen(text[j:])
				if n == 0 {
					i = j + 1 // "<" as text
					continue
				}
				element, closing, _ := tagAt(text[j:])
				open.apply(element, closing)
				end = j + n
				break
			}
			from := j + skip
			if m, ok := missing[closer]; !ok || from < m {
				if c := strings.Index(text[from:], closer); c >= 0 {
					end = from + c + len(closer)
				} else {
					missing[closer] = from
				}
			}
			if end < 0 {
				i = j + 1
				continue
			}
			if closer == "?>" || closer == "]]>" {
				// A browser ends these at their first ">" and reads the rest
				// of the raw HTML as HTML.
				shown := from + strings.IndexByte(text[from:end], '>') + 1
				for next < len(offsets) && offsets[next] < shown {
					next++ // covered
				}
				raw := rawState{open: open}
				for p := shown; ; next++ {
					stop := end
					if next < len(offsets) && offsets[next] < end {
						stop = offsets[next]
					}
					raw = scanRaw(text[p:stop], raw)
					if stop == end {
						break
					}
					if !raw.hiding() {
						return next, false
					}
					p = stop
				}
				if raw.closer != "" || raw.tag.reading {
					return -1, true // open past the raw HTML: taken as hiding the rest
				}
				open = raw.open
				i = end
				continue
			}
		}
		for next < len(offsets) && offsets[next] < end {
			next++ // covered
		}
		i = end
	}
	if next < len(offsets) && open.total == 0 {
		return next, false
	}
	return -1, open.total > 0
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
