package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads a configuration file strictly and overlays it on defaults:
// every key present in the file replaces the default, every key absent keeps
// it. The file must say `version: 1`, name only known keys, and give every key
// a value. Problems found are returned as Problems, with the line of each
// where the file has one; the result is then the zero Config.
func Parse(content []byte, defaults Config) (Config, error) {
	root, ps := parseTree(content)
	if root == nil {
		return Config{}, ps
	}

	cfg := defaults.Clone()
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		ps = append(ps, decodeProblems(err, root)...)
	}
	if _, ok := lookup(root, "version"); !ok {
		ps = append(ps, Problem{Key: "version", Message: fmt.Sprintf("missing: add `version: %d` at the top of the file", CurrentVersion)})
	}

	// A value that failed to decode keeps its default, so validating still
	// finds the other mistakes in the same pass; a line already reported is
	// not reported twice.
	reported := map[int]bool{}
	for _, p := range ps {
		reported[p.Line] = true
	}
	for _, p := range cfg.problems() {
		if node, ok := lookup(root, p.Key); ok {
			p.Line = node.Line
		} else if p.Key == "version" {
			continue // reported above as missing
		}
		if p.Line > 0 && reported[p.Line] {
			continue
		}
		ps = append(ps, p)
	}

	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
		return Config{}, ps
	}
	return cfg, nil
}

// parseTree reads content as one YAML document holding a mapping. It returns
// the mapping node (nil when there is none) and the problems found.
func parseTree(content []byte) (*yaml.Node, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Message: fmt.Sprintf("the file is empty: it needs at least `version: %d`", CurrentVersion)}}
		}
		return nil, Problems{yamlProblem(err.Error())}
	}

	var ps Problems
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			ps = append(ps, yamlProblem(err.Error()))
		} else {
			ps = append(ps, Problem{Line: line, Message: "a second YAML document (after ---); the file holds one"})
		}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, append(ps, Problem{Line: root.Line, Message: "the file must be a mapping of keys to values, like `version: 1`"})
	}
	ps = append(ps, nullValues(root, "")...)
	return root, ps
}

// nullValues reports keys given no value: `labels:` with nothing after it is
// far more often an unfinished edit than a wish to clear a default, and an
// explicit empty value (`labels: []`, `branch_prefix: ""`) says the latter.
func nullValues(mapping *yaml.Node, prefix string) Problems {
	var ps Problems
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		key, value := mapping.Content[i], mapping.Content[i+1]
		path := prefix + key.Value
		switch {
		case value.Kind == yaml.ScalarNode && value.Tag == "!!null":
			ps = append(ps, Problem{Line: key.Line, Key: path, Message: "no value: give one or remove the key"})
		case value.Kind == yaml.MappingNode:
			ps = append(ps, nullValues(value, path+".")...)
		}
	}
	return ps
}

// yamlLine matches the line yaml.v3 puts at the start of its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// unknownField matches yaml.v3's message for a key KnownFields refuses.
var unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

func yamlProblem(msg string) Problem {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Message: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return Problem{Line: line, Message: m[2]}
}

// decodeProblems turns a decoding error into problems, naming unknown keys
// by their full path and listing the keys allowed there.
func decodeProblems(err error, root *yaml.Node) Problems {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return Problems{yamlProblem(err.Error())}
	}
	ps := make(Problems, 0, len(typeErr.Errors))
	for _, msg := range typeErr.Errors {
		p := yamlProblem(msg)
		if m := unknownField.FindStringSubmatch(p.Message); m != nil {
			parent, found := keyAt(root, "", p.Line, m[1])
			if found {
				p.Key = joinKey(parent, m[1])
			} else {
				p.Key = m[1]
			}
			p.Message = "unknown key"
			if known := knownKeys(parent); len(known) > 0 {
				p.Message += "; known keys here: " + strings.Join(known, ", ")
			}
		} else if m := wrongType.FindStringSubmatch(p.Message); m != nil {
			p.Key = wrongTypePath(root, p.Line, m[1], m[3])
			p.Message = fmt.Sprintf("want %s, got %s%s", describeGoType(m[3]), describeYAMLTag(m[1]), m[2])
		}
		ps = append(ps, p)
	}
	return ps
}

// wrongType matches yaml.v3's message for a value of the wrong type: the
// YAML tag, the value quoted in backticks (scalars only), the Go type.
var wrongType = regexp.MustCompile("^cannot unmarshal (!![a-z]+)( `.*`)? into (\\S+)$")

func describeGoType(t string) string {
	switch t {
	case "[]string":
		return "a list of strings (like [a, b])"
	case "string":
		return "a string"
	case "int":
		return "a whole number"
	case "bool", "*bool":
		return "true or false"
	}
	if strings.HasPrefix(t, "repoconfig.") {
		return "a mapping of keys to values"
	}
	return t
}

func describeYAMLTag(tag string) string {
	switch tag {
	case "!!str":
		return "the string"
	case "!!int", "!!float":
		return "the number"
	case "!!bool":
		return "the boolean"
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	}
	return tag
}

// wrongTypePath finds the problem key of the value yaml.v3 could not decode:
// the node on line whose option has the Go type named in the message. The
// message gives no column, and a line can hold several values (a flow list),
// so the kind of node (list, mapping, scalar) narrows it down too.
func wrongTypePath(root *yaml.Node, line int, tag, goType string) string {
	kind := yaml.ScalarNode
	switch tag {
	case "!!seq":
		kind = yaml.SequenceNode
	case "!!map":
		kind = yaml.MappingNode
	}
	found := ""
	var walk func(n *yaml.Node, path string, t reflect.Type)
	walk = func(n *yaml.Node, path string, t reflect.Type) {
		if found != "" || t == nil {
			return
		}
		if n.Line == line && n.Kind == kind && path != "" && (t.String() == goType || t.Kind() == reflect.Pointer && t.Elem().String() == goType) {
			found = path
			return
		}
		switch {
		case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if f, ok := fieldByKey(t, n.Content[i].Value); ok {
					walk(n.Content[i+1], joinKey(path, n.Content[i].Value), f.Type)
				}
			}
		case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
			for i, item := range n.Content {
				walk(item, fmt.Sprintf("%s[%d]", path, i), t.Elem())
			}
		}
	}
	walk(root, "", reflect.TypeFor[Config]())
	return found
}

// keyAt finds the mapping key called name on line and returns the path of
// the mapping holding it.
func keyAt(n *yaml.Node, path string, line int, name string) (string, bool) {
	if n.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Line == line && key.Value == name {
			return path, true
		}
		if p, ok := keyAt(value, joinKey(path, key.Value), line, name); ok {
			return p, true
		}
	}
	return "", false
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// knownKeys lists the YAML keys of the Config struct at the dotted path.
func knownKeys(path string) []string {
	t := reflect.TypeFor[Config]()
	if path != "" {
		for _, name := range strings.Split(path, ".") {
			f, ok := fieldByKey(t, name)
			if !ok || f.Type.Kind() != reflect.Struct {
				return nil
			}
			t = f.Type
		}
	}
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, yamlKey(t.Field(i)))
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if yamlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// keyPart matches one element of a problem key: a name with an optional
// list index ("message_patterns[1]").
var keyPart = regexp.MustCompile(`^([^\[\]]+)(?:\[(\d+)\])?$`)

// lookup finds the node of the value at a problem key in the mapping root.
func lookup(root *yaml.Node, key string) (*yaml.Node, bool) {
	if key == "" {
		return nil, false
	}
	n := root
	for _, part := range strings.Split(key, ".") {
		m := keyPart.FindStringSubmatch(part)
		if m == nil || n.Kind != yaml.MappingNode {
			return nil, false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == m[1] {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil, false
		}
		if m[2] != "" {
			idx, _ := strconv.Atoi(m[2])
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return nil, false
			}
			next = next.Content[idx]
		}
		n = next
	}
	return n, true
}
