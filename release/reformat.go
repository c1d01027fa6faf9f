package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Flux writes some releases as more than rewritten values. Flux v2's image
// automation rewrites a whole file through its YAML library (kyaml), which
// may re-indent a list or drop a leading "---" in the same commit that moves
// the marked line; fluxd with a .flux.yaml "patchUpdated" generator writes
// its releases into a patch file, which then goes from empty to a merge
// patch that names the workload and sets its image. The diff of such a
// commit fails the line rule, so, for commits a configured Flux identity
// made with a Flux release message only, detection reads both versions of
// each such file and compares their YAML documents as data.

// FileReader reads whole versions of a file. Detection reads through it only
// on the rare path above: two reads per file whose diff is more than
// rewritten values, none at all for any other commit.
type FileReader interface {
	// FileAt returns the content of path in commit.
	FileAt(ctx context.Context, commit, path string) ([]byte, error)
}

// fluxV2DefaultMessage is the commit message image-automation-controller
// writes when an ImageUpdateAutomation sets no messageTemplate.
const fluxV2DefaultMessage = "Update from image update automation"

// AnalyzeReading is Analyze, and where Analyze refuses a commit that one
// of opts.Authors made with a Flux release message (fluxd's, image
// automation's default, or one of opts.MessagePatterns), it reads the two
// versions of each file whose diff is more than rewritten values and flags
// the commit when the only differences between their YAML documents, parsed
// with comments and formatting ignored, are image references: values on
// lines carrying a Flux v2 marker, image: fields, tags, digests and names of
// image maps and kustomization images: entries, or a Flux v1 patch document
// that sets only those. Such files are listed in Release.Reformatted.
//
// The error is a failure to read a file; the reason says why a commit is
// not a release, as Analyze does.
func AnalyzeReading(ctx context.Context, c Commit, opts Options, files FileReader) (*Release, string, error) {
	r, reason := Analyze(c, opts)
	if r != nil || files == nil || c.ParentCount != 1 || c.Parent == "" {
		return r, reason, nil
	}
	if !opts.authoredBy(c) || !fluxReleaseMessage(c.Message, opts) {
		return nil, reason, nil
	}
	var changes []ImageChange
	var reformatted []string
	for _, f := range c.Files {
		if opts.Ignores(f.Path) && (f.PreviousPath == "" || opts.Ignores(f.PreviousPath)) {
			continue
		}
		if fc, lineReason := fileChanges(f); lineReason == "" {
			changes = append(changes, fc...)
			continue
		}
		if (f.Status != "modified" && f.Status != "added") || !MightHoldImages(f.Path) {
			return nil, reason, nil
		}
		var before []byte
		if f.Status == "modified" {
			b, err := files.FileAt(ctx, c.Parent, f.Path)
			if err != nil {
				return nil, "", fmt.Errorf("read %s before %s: %w", f.Path, short(c.SHA), err)
			}
			before = b
		}
		after, err := files.FileAt(ctx, c.SHA, f.Path)
		if err != nil {
			return nil, "", fmt.Errorf("read %s in %s: %w", f.Path, short(c.SHA), err)
		}
		fc, dataReason := compareYAML(f.Path, before, after)
		if dataReason != "" {
			return nil, fmt.Sprintf("%s; compared as YAML data, %s", reason, dataReason), nil
		}
		changes = append(changes, fc...)
		reformatted = append(reformatted, f.Path)
	}
	if len(changes) == 0 {
		return nil, reason, nil
	}
	for i := range changes {
		if changes[i].Image == "" {
			changes[i].Image = messageImage(c.Message, changes[i].To)
		}
	}
	r = newRelease(c.SHA, changes)
	r.Reformatted = reformatted
	return r, "", nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// messageImage is the name of the image fluxd's message says it released
// with tag ("Auto-release ghcr.io/acme/web:1.4.2"), "" when it names
// another tag or none: a patch that sets a tag alone does not name its
// image.
func messageImage(message, tag string) string {
	fields := strings.Fields(firstLine(message))
	if len(fields) < 2 || (fields[0] != "Auto-release" && fields[0] != "Release") {
		return ""
	}
	ref, ok := parseImageRef(fields[1])
	if !ok || ref.Tag != tag {
		return ""
	}
	return ref.Name
}

// fluxReleaseMessage reports whether message is one Flux writes for a
// release, or one the repository's patterns name.
func fluxReleaseMessage(message string, opts Options) bool {
	first := strings.TrimSpace(firstLine(message))
	return fluxV1Message.MatchString(first) || first == fluxV2DefaultMessage || opts.matchesMessage(message)
}

// yamlDocument is one document of a file, and its identity as a
// Kubernetes object (kind, namespace, name; "" when it has none).
type yamlDocument struct {
	root *yaml.Node
	id   string
}

// parseDocuments parses every non-empty document of content.
func parseDocuments(content []byte) ([]yamlDocument, error) {
	var docs []yamlDocument
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document between two "---"
		}
		docs = append(docs, yamlDocument{root: root, id: objectID(root)})
	}
}

// objectID is "kind namespace/name" of a Kubernetes object, "" otherwise.
func objectID(root *yaml.Node) string {
	if root.Kind != yaml.MappingNode {
		return ""
	}
	kind := mappingValue(root, "kind")
	meta := mappingChild(root, "metadata")
	if kind == nil || meta == nil || mappingValue(meta, "name") == nil {
		return ""
	}
	ns := ""
	if n := mappingValue(meta, "namespace"); n != nil {
		ns = n.Value
	}
	return kind.Value + " " + ns + "/" + mappingValue(meta, "name").Value
}

// mappingChild returns the value node of key in mapping m, or nil.
func mappingChild(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mappingValue returns the scalar value node of key in m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if v := mappingChild(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v
	}
	return nil
}

// compareYAML lists the image references that changed between two versions
// of a file, or says what else changed.
func compareYAML(file string, before, after []byte) ([]ImageChange, string) {
	old, err := parseDocuments(before)
	if err != nil {
		return nil, fmt.Sprintf("%s before the commit is not YAML: %v", file, err)
	}
	nw, err := parseDocuments(after)
	if err != nil {
		return nil, fmt.Sprintf("%s is not YAML: %v", file, err)
	}
	c := &yamlComparison{file: file}
	pairs, added, reason := pairDocuments(old, nw)
	if reason != "" {
		return nil, fmt.Sprintf("%s: %s", file, reason)
	}
	for _, p := range pairs {
		if reason := c.compare(p[0], p[1], place{}); reason != "" {
			return nil, reason
		}
	}
	for _, d := range added {
		if reason := c.patchDocument(d); reason != "" {
			return nil, reason
		}
	}
	if len(c.changes) == 0 {
		return nil, fmt.Sprintf("%s: no image reference changed", file)
	}
	return c.changes, ""
}

// pairDocuments pairs the documents of two versions: by object identity
// when every document has a distinct one, else by position. Documents only
// the new version has are returned apart; a document only the old version
// has is a removal, which no release makes.
func pairDocuments(old, nw []yamlDocument) (pairs [][2]*yaml.Node, added []*yaml.Node, reason string) {
	byID := func(docs []yamlDocument) map[string]*yaml.Node {
		m := make(map[string]*yaml.Node, len(docs))
		for _, d := range docs {
			if d.id == "" || m[d.id] != nil {
				return nil
			}
			m[d.id] = d.root
		}
		return m
	}
	oldByID, newByID := byID(old), byID(nw)
	if len(old) == 0 {
		for _, d := range nw {
			added = append(added, d.root)
		}
		return nil, added, ""
	}
	if oldByID == nil || newByID == nil {
		if len(old) != len(nw) {
			return nil, nil, fmt.Sprintf("%d documents became %d", len(old), len(nw))
		}
		for i := range old {
			pairs = append(pairs, [2]*yaml.Node{old[i].root, nw[i].root})
		}
		return pairs, nil, ""
	}
	for _, d := range old {
		if newByID[d.id] == nil {
			return nil, nil, fmt.Sprintf("the document of %s was removed", d.id)
		}
	}
	for _, d := range nw {
		if o := oldByID[d.id]; o != nil {
			pairs = append(pairs, [2]*yaml.Node{o, d.root})
		} else {
			added = append(added, d.root)
		}
	}
	return pairs, added, ""
}

// yamlComparison collects the image changes of one file.
type yamlComparison struct {
	file    string
	changes []ImageChange
}

// place is where a node sits: the key it is the value of (for a sequence
// item, the key of the sequence), the mapping holding it, and the key that
// mapping is the value of.
type place struct {
	key       string
	holder    *yaml.Node
	holderKey string
}

// compare walks two versions of a node and records each changed value
// that is an image reference, classified as detection of diffs does.
func (c *yamlComparison) compare(old, nw *yaml.Node, at place) string {
	old, nw = resolveAlias(old), resolveAlias(nw)
	if old.Kind != nw.Kind {
		return fmt.Sprintf("%s line %d: the structure changed", c.file, nw.Line)
	}
	switch nw.Kind {
	case yaml.MappingNode:
		if len(old.Content) != len(nw.Content) {
			return fmt.Sprintf("%s line %d: keys were added or removed", c.file, nw.Line)
		}
		for i := 0; i+1 < len(nw.Content); i += 2 {
			key := nw.Content[i]
			ov := mappingChild(old, key.Value)
			if ov == nil {
				return fmt.Sprintf("%s line %d: key %q was added", c.file, key.Line, key.Value)
			}
			if reason := c.compare(ov, nw.Content[i+1], place{key: key.Value, holder: nw, holderKey: at.key}); reason != "" {
				return reason
			}
		}
	case yaml.SequenceNode:
		if len(old.Content) != len(nw.Content) {
			return fmt.Sprintf("%s line %d: items were added or removed", c.file, nw.Line)
		}
		for i := range nw.Content {
			if reason := c.compare(old.Content[i], nw.Content[i], place{key: at.key}); reason != "" {
				return reason
			}
		}
	case yaml.ScalarNode:
		if old.Value == nw.Value && old.ShortTag() == nw.ShortTag() {
			return ""
		}
		if old.Value == nw.Value {
			return fmt.Sprintf("%s line %d: the type of %q changed", c.file, nw.Line, at.key)
		}
		if at.holder == nil {
			return fmt.Sprintf("%s line %d: a list item changed, not the value of a key", c.file, nw.Line)
		}
		return c.classify(old.Value, nw, at)
	default:
		return fmt.Sprintf("%s line %d: unsupported YAML node", c.file, nw.Line)
	}
	return ""
}

// classify records the change of the value nw from old, or says why it is
// not an image reference: a value on a line carrying a Flux v2 marker is
// judged by the marker, any other by its key, as in a diff.
func (c *yamlComparison) classify(old string, nw *yaml.Node, at place) string {
	m := nodeMapping(at.holder, at.holderKey)
	var ch ImageChange
	var reason string
	if setter, present := parseMarker(strings.TrimPrefix(nw.LineComment, "#")); present {
		ch, reason = classifySetter(setter, old, nw.Value, m)
	} else {
		ch, reason = classifyField(at.key, old, nw.Value, m)
	}
	if reason != "" {
		return fmt.Sprintf("%s line %d: %s", c.file, nw.Line, reason)
	}
	ch.File, ch.Line = c.file, nw.Line
	c.changes = append(c.changes, ch)
	return ""
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// nodeMapping describes the mapping m, the value of parentKey, as the line
// classifier sees a mapping: its scalar entries with their comments.
func nodeMapping(m *yaml.Node, parentKey string) mapping {
	out := mapping{parentKey: parentKey, parentKnown: true}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolveAlias(m.Content[i+1])
		l := yamlLine{Key: k.Value, HasKey: true, Comment: strings.TrimPrefix(v.LineComment, "#")}
		if v.Kind == yaml.ScalarNode {
			l.Scalar, l.Value = true, v.Value
		} else {
			l.Open = true
		}
		out.siblings = append(out.siblings, l)
	}
	return out
}

// patchDocument accepts a document Flux v1 added to a .flux.yaml patch
// file: a merge patch that names its object (apiVersion, kind,
// metadata.name and namespace) and sets only image references, with the
// container names and "$setElementOrder" lists of a strategic merge patch
// to locate them. Each reference it sets is recorded with no From: the
// value it replaces lives in the patched manifest, not in this file.
func (c *yamlComparison) patchDocument(doc *yaml.Node) string {
	if doc.Kind != yaml.MappingNode || objectID(doc) == "" {
		return fmt.Sprintf("%s line %d: a document was added that names no Kubernetes object", c.file, doc.Line)
	}
	images := len(c.changes)
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, v := doc.Content[i], doc.Content[i+1]
		switch key.Value {
		case "apiVersion", "kind":
			if v.Kind != yaml.ScalarNode {
				return fmt.Sprintf("%s line %d: %s is not a value", c.file, key.Line, key.Value)
			}
		case "metadata":
			if v.Kind != yaml.MappingNode {
				return fmt.Sprintf("%s line %d: metadata is not a mapping", c.file, key.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if k := v.Content[j].Value; k != "name" && k != "namespace" {
					return fmt.Sprintf("%s line %d: the added patch sets metadata.%s", c.file, v.Content[j].Line, k)
				}
			}
		default:
			if reason := c.patchValue(v, place{key: key.Value, holder: doc}); reason != "" {
				return reason
			}
		}
	}
	if len(c.changes) == images {
		return fmt.Sprintf("%s line %d: the added patch sets no image reference", c.file, doc.Line)
	}
	return ""
}

// patchValue walks the body of an added patch document.
func (c *yamlComparison) patchValue(n *yaml.Node, at place) string {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, v := n.Content[i], n.Content[i+1]
			if strings.HasPrefix(key.Value, "$setElementOrder/") {
				if !nameList(v) {
					return fmt.Sprintf("%s line %d: %s lists more than names", c.file, key.Line, key.Value)
				}
				continue
			}
			if key.Value == "name" && at.key != "" && n.Kind == yaml.MappingNode && at.holder == nil {
				// The name of a list item (a container): it locates the
				// item a strategic merge patch changes.
				if v.Kind != yaml.ScalarNode {
					return fmt.Sprintf("%s line %d: name is not a value", c.file, key.Line)
				}
				continue
			}
			if reason := c.patchValue(v, place{key: key.Value, holder: n, holderKey: at.key}); reason != "" {
				return reason
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if resolveAlias(item).Kind != yaml.MappingNode {
				return fmt.Sprintf("%s line %d: the added patch sets a list of values", c.file, item.Line)
			}
			if reason := c.patchValue(item, place{key: at.key}); reason != "" {
				return reason
			}
		}
	case yaml.ScalarNode:
		if at.holder == nil {
			return fmt.Sprintf("%s line %d: the added patch sets a list of values", c.file, n.Line)
		}
		return c.patchScalar(n, at)
	default:
		return fmt.Sprintf("%s line %d: unsupported YAML node", c.file, n.Line)
	}
	return ""
}

// patchScalar records a value an added patch sets, when it is an image
// reference: an image: field, or the tag, digest or repository of an image
// map.
func (c *yamlComparison) patchScalar(n *yaml.Node, at place) string {
	m := nodeMapping(at.holder, at.holderKey)
	ch := ImageChange{To: n.Value, File: c.file, Line: n.Line}
	switch at.key {
	case "image":
		ref, ok := parseImageRef(n.Value)
		if !ok {
			return fmt.Sprintf("%s line %d: image %q is not an image reference", c.file, n.Line, n.Value)
		}
		ch.Image, ch.Field = ref.Name, FieldImage
	case "tag", "digest", "repository":
		if !m.imageMap() {
			return fmt.Sprintf("%s line %d: %s outside any image map", c.file, n.Line, at.key)
		}
		valid := map[string]func(string) bool{"tag": validTag, "digest": validDigest, "repository": validName}[at.key]
		if !valid(n.Value) {
			return fmt.Sprintf("%s line %d: %s %q is not an image %s", c.file, n.Line, at.key, n.Value, at.key)
		}
		ch.Field = map[string]string{"tag": FieldTag, "digest": FieldDigest, "repository": FieldName}[at.key]
		if repo, ok := m.value("repository"); ok {
			ch.Image = m.withRegistry(repo)
		}
	default:
		return fmt.Sprintf("%s line %d: the added patch sets %q, not an image reference", c.file, n.Line, at.key)
	}
	c.changes = append(c.changes, ch)
	return ""
}

// nameList reports whether n is a list of {name: value} items, as a
// strategic merge patch's "$setElementOrder/<list>" is.
func nameList(n *yaml.Node) bool {
	if n.Kind != yaml.SequenceNode {
		return false
	}
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 || item.Content[0].Value != "name" || item.Content[1].Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}
