package hold

import (
	"bytes"
	"encoding/json"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/internal/fluxsetter"
)

// Held is a held marker found in a file.
type Held struct {
	Line     int
	Policy   string // "namespace:name"
	Field    string
	Original string // the marker text to put back, byte for byte
	Release  string // the (short, 7 hex) SHA of the release that was rolled back
	Value    string // the line's value as it stands (image reference, or tag/name/digest)
	// Text is the held marker exactly as it stands in the file.
	Text string

	col int // byte offset of Text in its line
}

// Setter is the held marker's setter name, e.g. "flux-system:api:tag".
func (h Held) Setter() string { return fluxsetter.Join(h.Policy, h.Field) }

// The held marker is a JSON object in the comment where the Flux marker
// was, e.g.
//
//	newTag: master-26a4b87 # {"$flux-rollback-hold": "flux-system:api:tag", "rolled_back": "d4cc490"}
//
// heldKey names the setter that is held, releaseKey the release whose
// rollback holds it, and originalKey, present only when the original marker
// was not written the usual way, the original marker text. docs/holds.md
// explains the choice.
const (
	heldKey     = "$flux-rollback-hold"
	releaseKey  = "rolled_back"
	originalKey = "was"
)

// usualMarker is the marker as Flux's documentation writes it; a held
// marker records the original text only when it differs from this.
func usualMarker(setter string) string {
	return `{"` + shortHandKey + `": "` + setter + `"}`
}

// heldMarker renders the held marker for setter.
func heldMarker(setter, release, original string) string {
	var b strings.Builder
	b.WriteString(`{"` + heldKey + `": `)
	b.WriteString(jsonString(setter))
	b.WriteString(`, "` + releaseKey + `": `)
	b.WriteString(jsonString(release))
	if original != usualMarker(setter) {
		b.WriteString(`, "` + originalKey + `": `)
		b.WriteString(jsonString(original))
	}
	b.WriteString("}")
	return b.String()
}

// jsonString quotes s as a JSON string, leaving <, > and & as they are.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// parseHeld reads a held marker. The original it records must itself be a
// marker the controller acts on, for the same setter: Resume never writes
// anything else back.
func parseHeld(text string) (Held, bool) {
	if !strings.Contains(text, heldKey) {
		return Held{}, false
	}
	var m map[string]string
	if json.Unmarshal([]byte(text), &m) != nil {
		return Held{}, false
	}
	setter := m[heldKey]
	policy, field, ok := fluxsetter.Split(setter)
	if !ok || !fluxsetter.Defined(setter) {
		return Held{}, false
	}
	original, recorded := m[originalKey]
	if !recorded {
		original = usualMarker(setter)
	} else if s, ok := controllerSetter(original); !ok || s != setter || strings.Trim(original, jsonSpace) != original {
		return Held{}, false
	}
	return Held{Policy: policy, Field: field, Original: original, Release: m[releaseKey], Text: text}, true
}

// Hold turns the Flux markers on the given 1-based lines into held markers
// that record the original marker text and the release rolled back; lines
// without a marker are left alone. A line counts when it is the marker's
// line or the line of the value it sets. Nothing else in the content
// changes, byte for byte. It returns the new content and the holds made.
func Hold(content []byte, lines []int, release string) ([]byte, []Held) {
	want := make(map[int]bool, len(lines))
	for _, l := range lines {
		want[l] = true
	}
	release = shortSHA(release)
	var todo []Marker
	for _, m := range Markers(content) {
		if want[m.Line] || want[m.ValueLine] {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return content, nil
	}
	ls := splitLines(content)
	holds := make([]Held, 0, len(todo))
	for _, m := range todo {
		text := heldMarker(m.Setter(), release, m.Text)
		l := ls[m.Line-1]
		ls[m.Line-1] = l[:m.col] + text + l[m.col+len(m.Text):]
		holds = append(holds, Held{Line: m.Line, Policy: m.Policy, Field: m.Field, Original: m.Text,
			Release: release, Value: m.Value, Text: text, col: m.col})
	}
	return []byte(strings.Join(ls, "")), holds
}

// shortSHA shortens a full commit SHA to the 7 hex digits people quote.
func shortSHA(sha string) string {
	if len(sha) > 7 && strings.Trim(sha, "0123456789abcdef") == "" {
		return sha[:7]
	}
	return sha
}

// FindHeld lists the held markers in content, in line order. It reads the
// file line by line, so it finds holds in files that no longer parse, and
// on lines a person edited by hand: Value is then the value as edited.
func FindHeld(content []byte) []Held {
	if !bytes.Contains(content, []byte(heldKey)) {
		return nil
	}
	ls := splitLines(content)
	parsed := heldValues(content, ls)
	var out []Held
	for i, l := range ls {
		text := trimEOL(l)
		h, start, ok := findHeldComment(text)
		if !ok {
			continue
		}
		h.Line = i + 1
		if v, ok := parsed[h.Line]; ok {
			h.Value = v
		} else if before := strings.TrimSpace(text[:start]); before != "" {
			h.Value = lineValue(text[:start])
		} else {
			// A marker on its own line sets the list item below it.
			for _, next := range ls[i+1:] {
				nt := strings.TrimSpace(next)
				if nt != "" && !strings.HasPrefix(nt, "#") {
					h.Value = lineValue(trimEOL(next))
					break
				}
			}
		}
		out = append(out, h)
	}
	return out
}

// heldValues reads, when content parses as YAML, the value each held
// marker comment belongs to, by the comment's line: exact where a single
// line is not (a quoted value over several lines, a flow mapping).
func heldValues(content []byte, ls []string) map[int]string {
	values := map[int]string{}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			return values
		}
		visitScalars(&doc, func(n *yaml.Node) {
			comment, head := n.LineComment, false
			if comment == "" {
				comment, head = n.HeadComment, true
			}
			if !strings.Contains(comment, heldKey) {
				return
			}
			if line, _, ok := locateComment(ls, n.Line, comment, head); ok {
				values[line] = n.Value
			}
		})
	}
}

// findHeldComment finds a held marker in a comment of line. start is where
// the comment's '#' is.
func findHeldComment(line string) (h Held, start int, ok bool) {
	if !strings.Contains(line, heldKey) {
		return Held{}, 0, false
	}
	// The comment is the first run of '#'s whose rest of the line is a
	// held marker. YAML wants blank space before a comment, but the parser
	// also takes one right after a quoted value, and so does the controller.
	for p := 0; p < len(line); p++ {
		if line[p] != '#' || (p > 0 && line[p-1] == '#') {
			continue
		}
		inner := strings.TrimLeft(line[p:], "#")
		text := strings.Trim(inner, " \t")
		h, ok := parseHeld(text)
		if !ok {
			continue
		}
		h.col = len(line) - len(inner) + strings.Index(inner, text)
		return h, p, true
	}
	return Held{}, 0, false
}

// lineValue is the scalar value of one line of YAML ("key: value",
// "- value", "- key: value"), or "" when it has none.
func lineValue(text string) string {
	s := strings.TrimSpace(text)
	for strings.HasPrefix(s, "- ") || s == "-" {
		s = strings.TrimSpace(strings.TrimPrefix(s, "-"))
	}
	var n yaml.Node
	if yaml.Unmarshal([]byte(s), &n) != nil || len(n.Content) == 0 {
		return ""
	}
	root := n.Content[0]
	switch {
	case root.Kind == yaml.ScalarNode:
		return root.Value
	case root.Kind == yaml.MappingNode && len(root.Content) == 2 && root.Content[1].Kind == yaml.ScalarNode:
		return root.Content[1].Value
	}
	return ""
}

// Resume puts the original marker back on every held line whose policy is
// in policies (every held line when policies is empty), byte for byte;
// nothing else changes. It returns the new content and the holds it undid.
func Resume(content []byte, policies []string) ([]byte, []Held) {
	want := make(map[string]bool, len(policies))
	for _, p := range policies {
		want[p] = true
	}
	var undo []Held
	for _, h := range FindHeld(content) {
		if len(policies) == 0 || want[h.Policy] {
			undo = append(undo, h)
		}
	}
	if len(undo) == 0 {
		return content, nil
	}
	ls := splitLines(content)
	for _, h := range undo {
		l := ls[h.Line-1]
		ls[h.Line-1] = l[:h.col] + h.Original + l[h.col+len(h.Text):]
	}
	return []byte(strings.Join(ls, "")), undo
}
