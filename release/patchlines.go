package release

// ChangedLine is a line a commit removed or added in a file, as its patch
// shows it.
type ChangedLine struct {
	Added bool   // added (in the new version) or removed (in the old one)
	Line  int    // 1-based, in the version it belongs to
	Text  string // without its newline
}

// ChangedLines lists the removed and added lines of a file's patch, in
// patch order. A patch that does not parse yields an error.
func ChangedLines(f File) ([]ChangedLine, error) {
	hunks, err := parsePatch(f.Patch)
	if err != nil {
		return nil, err
	}
	var out []ChangedLine
	for _, h := range hunks {
		for _, l := range h.Lines {
			switch l.Kind {
			case lineAdded:
				out = append(out, ChangedLine{Added: true, Line: l.NewLine, Text: l.Text})
			case lineRemoved:
				out = append(out, ChangedLine{Line: l.OldLine, Text: l.Text})
			}
		}
	}
	return out, nil
}
