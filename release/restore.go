package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MissingReferenceError means an image reference a release changed no longer
// exists in the current version of the file: its marker was removed, its
// images: entry is gone, or no image: field names the image any more.
type MissingReferenceError struct {
	File  string
	Image string // "" when the release did not show the image's name
	// Wanted describes the reference that was looked for.
	Wanted string
}

func (e *MissingReferenceError) Error() string {
	return fmt.Sprintf("%s: %s is no longer there", e.File, e.Wanted)
}

// Restore sets, in content (the current version of a file on the branch
// head), every image reference described by changes (all of the same file)
// back to its value before the release, changing nothing else: not one
// other byte, so comments, quoting, indentation and line endings stay as
// they are.
//
// The same reference is found on the head by its Flux v2 marker (same
// setter and form), by its kustomization images: entry (matched by name) and
// field, or by its image: field or Helm image map (matched by image name).
// When several match, the one still holding the release's value and nearest
// to the release's line is taken, each at most once.
//
// Where the value holds a whole reference, the whole reference the release
// replaced is written back (ImageChange.Replaced), old name included; where
// it holds a tag, digest or name alone, that value alone.
func Restore(content []byte, changes []ImageChange) ([]byte, error) {
	r, err := RestoreFile(content, changes)
	if err != nil {
		return nil, err
	}
	return r.Content, nil
}

// Restored is a file with its image references set back.
type Restored struct {
	Content []byte
	// Renamed lists the whole references whose image name on the head is
	// no longer the one the release set: the image moved (to another
	// registry, say) since. Restore writes back the reference that ran
	// before the release, old name included, which a reviewer should see.
	Renamed []Renamed
}

// Renamed is a whole reference whose image name changed since the release.
type Renamed struct {
	File string
	Line int    // 1-based, in the head's version of the file
	Now  string // the reference on the head
	// Restored is the reference written back, the one the release replaced.
	Restored string
}

// RestoreFile is Restore, and also says which references' image names
// changed since the release.
func RestoreFile(content []byte, changes []ImageChange) (Restored, error) {
	if len(changes) == 0 {
		return Restored{Content: content}, nil
	}
	file := changes[0].File
	for _, ch := range changes[1:] {
		if ch.File != file {
			return Restored{}, fmt.Errorf("restore image references: changes of two files, %s and %s", file, ch.File)
		}
	}
	lines := splitLines(string(content))
	refs, err := findReferences(content, lines, changes)
	if err != nil {
		return Restored{}, fmt.Errorf("restore image references in %s: %w", file, err)
	}
	var out Restored
	used := make(map[int]bool)
	for _, ch := range changes {
		target, ok := pickReference(refs, ch, used)
		if !ok {
			return Restored{}, &MissingReferenceError{File: file, Image: ch.Image, Wanted: describeReference(ch)}
		}
		used[target.line] = true
		text, eol := cutEOL(lines[target.line])
		l := parseYAMLLine(text)
		value, err := restoredValue(l.Value, target, ch)
		if err != nil {
			return Restored{}, fmt.Errorf("restore %s in %s line %d: %w", describeReference(ch), file, target.line+1, err)
		}
		if renamedSince(l.Value, target, ch) {
			out.Renamed = append(out.Renamed, Renamed{File: file, Line: target.line + 1, Now: l.Value, Restored: value})
		}
		lines[target.line] = l.withValue(value) + eol
	}
	out.Content = []byte(strings.Join(lines, ""))
	return out, nil
}

// renamedSince reports whether the whole reference current names another
// image than the one the release set.
func renamedSince(current string, r imageField, ch ImageChange) bool {
	if r.form != formWhole || ch.Replaced == "" {
		return false
	}
	now, ok1 := parseImageRef(current)
	set, ok2 := parseImageRef(ch.To)
	if ch.Field != FieldImage {
		set, ok2 = imageRef{Name: ch.Image}, ch.Image != ""
	}
	return ok1 && ok2 && now.Name != set.Name
}

// A reference's form says how its value is written.
const (
	formWhole  = ""       // name[:tag][@digest]
	formTag    = FieldTag // the tag alone
	formName   = FieldName
	formDigest = FieldDigest
)

// imageField is one image reference of the current file.
type imageField struct {
	line   int    // 0-based line holding the value
	image  string // the image name it belongs to, "" when unknown
	form   string // how the value is written
	setter string // the marker's setter, "" without one
	value  string
}

// findReferences lists the file's references: marked lines always, and the
// structural ones (found with a YAML parser) when a change has no marker.
func findReferences(content []byte, lines []string, changes []ImageChange) ([]imageField, error) {
	var refs []imageField
	for i, raw := range lines {
		text, _ := cutEOL(raw)
		l := parseYAMLLine(text)
		if !l.HasKey || !l.Scalar {
			continue
		}
		setter, _ := parseMarker(l.Comment)
		if setter == "" {
			continue
		}
		if policy, form := splitSetter(setter); policy != "" {
			refs = append(refs, imageField{line: i, form: form, setter: setter, value: l.Value})
		}
	}
	needStructure := false
	for _, ch := range changes {
		needStructure = needStructure || ch.Setter == ""
	}
	if !needStructure {
		return refs, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse YAML: %w", err)
		}
		refs = appendStructural(refs, &doc, "", lines)
	}
	return refs, nil
}

// appendStructural walks a YAML tree for unmarked references: image: fields,
// kustomization images: entries and Helm image maps. parentKey is the key
// node is the value of.
func appendStructural(refs []imageField, node *yaml.Node, parentKey string, lines []string) []imageField {
	switch node.Kind {
	case yaml.DocumentNode:
		for _, n := range node.Content {
			refs = appendStructural(refs, n, "", lines)
		}
	case yaml.SequenceNode:
		for _, item := range node.Content {
			if parentKey == "images" && item.Kind == yaml.MappingNode {
				refs = appendKustomizeEntry(refs, item, lines)
			}
			refs = appendStructural(refs, item, "", lines)
		}
	case yaml.MappingNode:
		fields := scalarFields(node)
		_, hasRepo := fields["repository"]
		if hasRepo || strings.HasSuffix(strings.ToLower(parentKey), "image") {
			image := ""
			if repo, ok := fields["repository"]; ok {
				image = repo.Value
				if reg, ok := fields["registry"]; ok && reg.Value != "" {
					image = strings.TrimSuffix(reg.Value, "/") + "/" + repo.Value
				}
			}
			for _, f := range []struct{ key, form string }{{"repository", formName}, {"tag", formTag}, {"digest", formDigest}} {
				if v, ok := fields[f.key]; ok {
					refs = appendLine(refs, v, f.key, imageField{image: image, form: f.form}, lines)
				}
			}
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			if k.Value == "image" && v.Kind == yaml.ScalarNode {
				refs = appendLine(refs, v, "image", imageField{image: refName(v.Value), form: formWhole}, lines)
			}
			refs = appendStructural(refs, v, k.Value, lines)
		}
	}
	return refs
}

// appendKustomizeEntry adds the fields of one kustomization images: entry.
func appendKustomizeEntry(refs []imageField, entry *yaml.Node, lines []string) []imageField {
	fields := scalarFields(entry)
	name, ok := fields["name"]
	if !ok {
		return refs
	}
	for _, f := range []struct{ key, form string }{{"newTag", formTag}, {"newName", formName}, {"digest", formDigest}} {
		if v, ok := fields[f.key]; ok {
			refs = appendLine(refs, v, f.key, imageField{image: name.Value, form: f.form}, lines)
		}
	}
	return refs
}

func scalarFields(m *yaml.Node) map[string]*yaml.Node {
	fields := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := m.Content[i+1]; v.Kind == yaml.ScalarNode {
			fields[m.Content[i].Value] = v
		}
	}
	return fields
}

// appendLine adds the reference whose value is the scalar v of key, when its
// line is a plain "key: value" line that Restore can edit byte-exactly.
func appendLine(refs []imageField, v *yaml.Node, key string, r imageField, lines []string) []imageField {
	i := v.Line - 1
	if i < 0 || i >= len(lines) {
		return refs
	}
	text, _ := cutEOL(lines[i])
	l := parseYAMLLine(text)
	if !l.HasKey || l.Key != key || !l.Scalar || l.Value != v.Value {
		return refs // flow style or a multi-line scalar: not a line image automation writes
	}
	r.line, r.value = i, l.Value
	return append(refs, r)
}

// refName is the name part of a whole reference. It does not validate: a
// field is only edited when its name equals a change's image, and the full
// parse happens then, sparing it on every other image: field of the file.
func refName(s string) string {
	name, _, _ := strings.Cut(s, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	return name
}

// pickReference chooses the reference of the current file that ch changed.
func pickReference(refs []imageField, ch ImageChange, used map[int]bool) (imageField, bool) {
	best, found := imageField{}, false
	bestScore := 0
	for _, r := range refs {
		if used[r.line] || !sameReference(r, ch) {
			continue
		}
		// Prefer a reference still holding the release's value, then the
		// one nearest the line the release changed.
		score := abs(r.line + 1 - ch.Line)
		if !holds(r, ch.To, ch.Field) {
			score += 1 << 30
		}
		if !found || score < bestScore {
			best, bestScore, found = r, score, true
		}
	}
	return best, found
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// sameReference reports whether r is the reference ch changed.
func sameReference(r imageField, ch ImageChange) bool {
	if ch.Setter != "" {
		return r.setter == ch.Setter
	}
	if r.setter != "" || !formFits(r.form, ch.Field) {
		// A marked line is also listed without its setter when the YAML
		// structure makes it an image reference; that entry is the one an
		// unmarked change matches.
		return false
	}
	if ch.Image == "" {
		return r.line+1 == ch.Line
	}
	return r.image == ch.Image
}

// formFits reports whether a value written in form can hold field.
func formFits(form, field string) bool {
	return form == formWhole || form == field
}

// holds reports whether r's value has value as its field.
func holds(r imageField, value, field string) bool {
	if r.form != formWhole {
		return r.value == value
	}
	ref, ok := parseImageRef(r.value)
	if !ok {
		return false
	}
	switch field {
	case FieldTag:
		return ref.Tag == value
	case FieldDigest:
		return ref.Digest == value
	case FieldName:
		return ref.Name == value
	}
	return r.value == value
}

// restoredValue is current with ch's field set back to ch.From.
func restoredValue(current string, r imageField, ch ImageChange) (string, error) {
	if r.form != formWhole {
		if r.form != ch.Field {
			return "", fmt.Errorf("the reference holds the %s, the release changed the %s", r.form, ch.Field)
		}
		return ch.From, nil
	}
	if ch.Replaced != "" {
		return ch.Replaced, nil
	}
	if ch.Field == FieldImage {
		return ch.From, nil
	}
	ref, ok := parseImageRef(current)
	if !ok {
		return "", fmt.Errorf("%q is not an image reference", current)
	}
	switch ch.Field {
	case FieldTag:
		ref.Tag = ch.From
	case FieldDigest:
		ref.Digest = ch.From
	case FieldName:
		ref.Name = ch.From
	default:
		return "", fmt.Errorf("unknown field %q", ch.Field)
	}
	return ref.String(), nil
}

// describeReference says what reference of the file ch is about.
func describeReference(ch ImageChange) string {
	if ch.Setter != "" {
		return fmt.Sprintf(`the field marked {"$imagepolicy": %q}`, ch.Setter)
	}
	switch {
	case ch.Image == "":
		return fmt.Sprintf("the image %s at line %d", ch.Field, ch.Line)
	case ch.Field == FieldImage:
		return fmt.Sprintf("the reference to image %s", ch.Image)
	}
	return fmt.Sprintf("the %s of image %s", ch.Field, ch.Image)
}

// cutEOL splits a line from its "\n" ("\r" stays in text, where the line
// reader keeps it).
func cutEOL(line string) (text, eol string) {
	if strings.HasSuffix(line, "\n") {
		return line[:len(line)-1], "\n"
	}
	return line, ""
}
