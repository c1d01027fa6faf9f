package hold

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/internal/fluxsetter"
)

// Marker is a Flux image policy marker on one line of a YAML file.
type Marker struct {
	Line   int    // 1-based
	Policy string // the ImagePolicy as "namespace:name"
	Field  string // "" for the whole reference, else "tag", "name" or "digest"
	Text   string // the marker exactly as written, e.g. {"$imagepolicy": "flux-system:api:tag"}
	// ValueLine is the line of the value the marker sets: Line itself for a
	// marker after the value, the item's line for a marker written on its
	// own line above a list item (the controller reads both).
	ValueLine int
	// Value is the value as it stands, unquoted.
	Value string

	col int // byte offset of Text in its line
}

// Setter is the marker's setter name, e.g. "flux-system:api:tag".
func (m Marker) Setter() string { return fluxsetter.Join(m.Policy, m.Field) }

// The controller's marker key and the token its file reader screens files
// for (image-automation-controller internal/constants and
// internal/update/setters.go).
const (
	shortHandKey = fluxsetter.ShortHand
	screenToken  = `"` + fluxsetter.ShortHand + `"`
)

// Markers lists the markers Flux's image-automation-controller acts on, in
// line order. It follows the controller's own reading of a file (see
// docs/holds.md): the file must contain the token "$imagepolicy" (quotes
// included) and parse as the controller's reader parses it, or the
// controller skips it whole; then every scalar value in a mapping or a
// sequence whose line comment (or, without one, the comment on the line
// above it) is exactly a JSON object naming a setter is a marker. Which
// files the controller reads at all (names ending .yaml or .yml, or named
// Kustomization, under the automation's path) is the caller's business: see
// ScansPath.
func Markers(content []byte) []Marker {
	if !bytes.Contains(content, []byte(screenToken)) {
		return nil
	}
	docs, ok := controllerDocuments(content)
	if !ok {
		return nil
	}
	lines := splitLines(content)
	var out []Marker
	for _, d := range docs {
		visitScalars(d.root, func(n *yaml.Node) {
			comment, head := n.LineComment, false
			if comment == "" {
				comment, head = n.HeadComment, true
			}
			if comment == "" {
				return
			}
			setter, ok := controllerSetter(comment)
			if !ok {
				return
			}
			policy, field, _ := fluxsetter.Split(setter)
			valueLine := n.Line + d.offset
			line, col, ok := locateComment(lines, valueLine, comment, head)
			if !ok {
				return
			}
			inner := strings.TrimLeft(comment, "#")
			text := strings.Trim(inner, jsonSpace)
			col += len(comment) - len(inner) + strings.Index(inner, text)
			out = append(out, Marker{Line: line, Policy: policy, Field: field, Text: text,
				ValueLine: valueLine, Value: n.Value, col: col})
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// ScansPath reports whether the controller's file reader looks at a file of
// this path at all: names ending .yaml or .yml, and files named
// Kustomization (internal/update/filereader.go).
func ScansPath(path string) bool {
	base := path[strings.LastIndexByte(path, '/')+1:]
	return strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml") || base == "Kustomization"
}

const jsonSpace = " \t\r\n"

// controllerSetter reads one comment as the controller does.
func controllerSetter(comment string) (string, bool) { return fluxsetter.FromComment(comment) }

// document is one YAML document of a file as the controller reads it.
type document struct {
	root   *yaml.Node // the document's content
	offset int        // lines of the file before the document's piece
}

// separator is the document separator of kyaml's kio.ByteReader: any line
// starting with "---" after the first.
var separator = regexp.MustCompile(`\n---.*\n`)

// controllerDocuments splits and parses content as kyaml's kio.ByteReader
// does for the controller (CRLF read as LF, documents split on separator
// lines, only the first document of each piece decoded). ok is false when
// the reader fails on the file, which the controller then leaves alone.
func controllerDocuments(content []byte) ([]document, bool) {
	s := strings.ReplaceAll(string(content), "\r\n", "\n")
	type piece struct {
		text   string
		offset int
	}
	var pieces []piece
	prev := 0
	for _, loc := range separator.FindAllStringIndex(s, -1) {
		after := strings.TrimSpace(s[loc[0]+4 : loc[1]])
		if after != "" && after[0] != '#' {
			return nil, false
		}
		pieces = append(pieces, piece{s[prev:loc[0]] + "\n", strings.Count(s[:prev], "\n")})
		prev = loc[1]
	}
	pieces = append(pieces, piece{s[prev:], strings.Count(s[:prev], "\n")})

	var docs []document
	for _, p := range pieces {
		var n yaml.Node
		err := yaml.NewDecoder(strings.NewReader(p.text)).Decode(&n)
		if errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return nil, false
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		// The reader annotates every resource with its path, which fails
		// on anything but a mapping with a mapping's metadata.annotations.
		if root.Kind != yaml.MappingNode {
			return nil, false
		}
		if md := mappingValue(root, "metadata"); md != nil {
			if md.Kind != yaml.MappingNode {
				return nil, false
			}
			if an := mappingValue(md, "annotations"); an != nil && an.Kind != yaml.MappingNode {
				return nil, false
			}
		}
		docs = append(docs, document{root: root, offset: p.offset})
	}
	// A lone List or ResourceList is unwrapped: only its items are resources.
	if len(pieces) == 1 && len(docs) == 1 {
		root := docs[0].root
		kind := mappingValue(root, "kind")
		items := mappingValue(root, "items")
		if kind != nil && (kind.Value == "List" || kind.Value == "ResourceList") &&
			(items != nil || mappingValue(root, "functionConfig") != nil) {
			var unwrapped []document
			if items != nil {
				for _, it := range items.Content {
					unwrapped = append(unwrapped, document{root: it, offset: docs[0].offset})
				}
			}
			return unwrapped, true
		}
	}
	return docs, true
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
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

// visitScalars calls f on every scalar the controller's setter filter
// visits: mapping values (never keys) and sequence items, recursively;
// aliases are not followed.
func visitScalars(n *yaml.Node, f func(*yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			visitScalars(c, f)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			visitScalars(n.Content[i], f)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			visitScalars(c, f)
		}
	case yaml.ScalarNode:
		f(n)
	}
}

// locateComment finds the line that carries a node's comment: for a line
// comment the first line from the value's own on that ends with it (a
// quoted value may span lines), for a head comment the nearest line above
// the value that holds only it. col is the comment's byte offset.
func locateComment(lines []string, valueLine int, comment string, head bool) (line, col int, ok bool) {
	if valueLine < 1 || valueLine > len(lines) {
		return 0, 0, false
	}
	if head {
		want := strings.TrimRight(comment, " \t")
		for l := valueLine - 1; l >= 1; l-- {
			text := trimEOL(lines[l-1])
			if strings.TrimRight(strings.TrimLeft(text, " \t"), " \t") == want {
				return l, strings.Index(text, want), true
			}
		}
		return 0, 0, false
	}
	for l := valueLine; l <= len(lines); l++ {
		text := trimEOL(lines[l-1])
		if strings.HasSuffix(text, comment) {
			return l, len(text) - len(comment), true
		}
	}
	return 0, 0, false
}

// splitLines splits content into lines, each keeping its line break, as
// YAML counts lines: "\r\n", "\n" and a lone "\r" end one, and so do the
// breaks YAML 1.1 adds (NEL, LS and PS), so that line numbers agree with
// the parser's.
func splitLines(content []byte) []string {
	var lines []string
	s := string(content)
	start := 0
	for i := 0; i < len(s); i++ {
		end := -1
		switch {
		case s[i] == '\n':
			end = i + 1
		case s[i] == '\r':
			end = i + 1
			if i+1 < len(s) && s[i+1] == '\n' {
				end = i + 2
			}
		case strings.HasPrefix(s[i:], "\u0085"):
			end = i + 2
		case strings.HasPrefix(s[i:], "\u2028"), strings.HasPrefix(s[i:], "\u2029"):
			end = i + 3
		}
		if end < 0 {
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end-1
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// trimEOL is a line without its line break.
func trimEOL(line string) string {
	for _, eol := range []string{"\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"} {
		if strings.HasSuffix(line, eol) {
			return line[:len(line)-len(eol)]
		}
	}
	return line
}

// hasEOL reports whether line ends with a line break.
func hasEOL(line string) bool { return trimEOL(line) != line }
