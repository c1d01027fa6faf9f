package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ConfigProblem is one thing wrong with the configuration, said in the
// terms of the file (key path, line, the form expected), never in Go's.
type ConfigProblem struct {
	// Source is the file the value came from, or "" for the environment and
	// for problems of the whole configuration.
	Source string
	// Line in Source, or 0.
	Line int
	// Key is the dotted YAML path ("server.port") or the environment
	// variable ("FLUXROLLBACK_PORT").
	Key     string
	Message string
}

func (p ConfigProblem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ConfigProblems is every problem of a configuration; its Error is one line.
type ConfigProblems []ConfigProblem

func (ps ConfigProblems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// secretKeys are the keys whose values are never quoted in a problem.
var secretKeys = map[string]bool{
	"github.app.webhook_secret":  true,
	"github.app.private_key":     true,
	"github.oauth.client_secret": true,
}

// decodeStrict decodes the YAML document data onto dst (a pointer to a
// struct), keeping the values dst already has for keys the document leaves
// out. It walks yaml.v3's node tree itself rather than calling Decode, so
// that every problem is found in one pass and named by key path and line:
// a key the struct does not have (with the likely intended key), a value of
// the wrong form (with the form to write). Values that are wrong keep what
// dst had. source names the document in problems.
func decodeStrict(data []byte, dst any, source string) error {
	_, err := decodeLocated(data, dst, source)
	return err
}

// decodeLocated is decodeStrict that also returns the line of every key the
// document sets, by key path, so that problems found later (validation) can
// point at the line too.
func decodeLocated(data []byte, dst any, source string) (map[string]int, error) {
	d := &nodeDecoder{source: source, root: reflect.TypeOf(dst).Elem(), lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return d.lines, nil // an empty file sets nothing
		}
		line, msg := yamlErrorLine(err)
		return d.lines, ConfigProblems{{Source: source, Line: line, Message: "not valid YAML: " + msg}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		d.add(extra.Line, "", "a second YAML document (after ---); the file holds one")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	v := reflect.ValueOf(dst).Elem()
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return d.lines, nil
	}
	d.value(root, "", v)
	if len(d.problems) > 0 {
		return d.lines, d.problems
	}
	return d.lines, nil
}

// yamlLine matches the line yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlErrorLine(err error) (int, string) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

type nodeDecoder struct {
	source   string
	root     reflect.Type // of the whole document, for suggestions
	lines    map[string]int
	problems ConfigProblems
}

func (d *nodeDecoder) add(line int, key, format string, args ...any) {
	d.problems = append(d.problems, ConfigProblem{Source: d.source, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

var durationType = reflect.TypeFor[time.Duration]()

// value decodes n into v, the field at path.
func (d *nodeDecoder) value(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// `key:` with nothing after it is an unfinished edit far more often
		// than a wish for the zero value.
		d.add(n.Line, path, "no value; give one (%s) or remove the key", describeType(v.Type()))
		return
	}
	t := v.Type()
	switch {
	case t == durationType:
		d.duration(n, path, v)
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		if v.IsNil() {
			elem.Elem().Set(reflect.Zero(t.Elem()))
		} else {
			elem.Elem().Set(v.Elem())
		}
		before := len(d.problems)
		d.value(n, path, elem.Elem())
		if len(d.problems) == before {
			v.Set(elem)
		}
	case t.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n.Line, path, "%s; write a list, like [a, b]", d.describeNode(n, path))
			return
		}
		out := reflect.MakeSlice(t, 0, len(n.Content))
		before := len(d.problems)
		for i, item := range n.Content {
			elem := reflect.New(t.Elem()).Elem()
			d.value(item, fmt.Sprintf("%s[%d]", path, i), elem)
			out = reflect.Append(out, elem)
		}
		if len(d.problems) == before {
			v.Set(out)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(n.Line, path, "%s; write a string", d.describeNode(n, path))
			return
		}
		v.SetString(n.Value)
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.add(n.Line, path, "%s; write true or false", d.describeNode(n, path))
			return
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		d.integer(n, path, v)
	default:
		// No field of the configuration has another kind; decode what a
		// future one holds with yaml.v3 and report its words.
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.add(n.Line, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
}

func (d *nodeDecoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "%s; write a mapping of keys to values (%s)", d.describeNode(n, path), strings.Join(fieldKeys(v.Type()), ", "))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		keyPath := joinPath(path, key.Value)
		if line, dup := seen[key.Value]; dup {
			d.add(key.Line, keyPath, "set twice (also on line %d); keep one", line)
			continue
		}
		seen[key.Value] = key.Line
		d.lines[keyPath] = key.Line
		field, ok := fieldByKey(v, key.Value)
		if !ok {
			msg := "unknown key"
			if s := suggestKey(d.root, v.Type(), path, key.Value); s != "" {
				msg += "; did you mean " + s + "?"
			} else {
				msg += "; the keys here are " + strings.Join(fieldKeys(v.Type()), ", ")
			}
			d.add(key.Line, keyPath, "%s", msg)
			continue
		}
		d.value(value, keyPath, field)
	}
}

func (d *nodeDecoder) duration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, path, "%s; write a duration, like 30s or 1m30s", d.describeNode(n, path))
		return
	}
	switch n.Tag {
	case "!!int", "!!float":
		d.add(n.Line, path, "%s is not a duration; write %ss", n.Value, n.Value)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.add(n.Line, path, "%q is not a duration; write it like 30s, 2m or 1h30m", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *nodeDecoder) integer(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, path, "%s; write a number", d.describeNode(n, path))
		return
	}
	switch n.Tag {
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.add(n.Line, path, "%s is too large", n.Value)
			return
		}
		v.SetInt(i)
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == math.Trunc(f) && !v.OverflowInt(int64(f)) {
			v.SetInt(int64(f))
			return
		}
		d.add(n.Line, path, "%s is not a whole number", n.Value)
	default:
		d.add(n.Line, path, "%s; write a number", d.describeNode(n, path))
	}
}

// describeNode says what the document holds at n, quoting scalars unless
// the key holds a secret.
func (d *nodeDecoder) describeNode(n *yaml.Node, path string) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "is a list"
	case yaml.MappingNode:
		return "is a mapping"
	}
	if secretKeys[path] {
		return "is a " + scalarKind(n)
	}
	if n.Tag == "!!str" {
		return fmt.Sprintf("%q is a string", n.Value)
	}
	return fmt.Sprintf("%s is a %s", n.Value, scalarKind(n))
}

func scalarKind(n *yaml.Node) string {
	switch n.Tag {
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	}
	return "string"
}

func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration, like 30s"
	case t.Kind() == reflect.Pointer:
		return describeType(t.Elem())
	case t.Kind() == reflect.Struct:
		return "a mapping"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a string"
	}
	return "a number"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// fieldByKey finds the field of struct v that YAML key names, looking into
// inlined structs (githubapp.Config inside GitHubConfig).
func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		name, opts := yamlTag(t.Field(i))
		if strings.Contains(opts, "inline") {
			if f, ok := fieldByKey(v.Field(i), key); ok {
				return f, true
			}
			continue
		}
		if name == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// fieldKeys lists the YAML keys of struct t, inlined structs included.
func fieldKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, opts := yamlTag(t.Field(i))
		switch {
		case strings.Contains(opts, "inline"):
			keys = append(keys, fieldKeys(t.Field(i).Type)...)
		case name != "" && name != "-":
			keys = append(keys, name)
		}
	}
	return keys
}

func yamlTag(f reflect.StructField) (name, opts string) {
	name, opts, _ = strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" && !strings.Contains(opts, "inline") {
		name = strings.ToLower(f.Name)
	}
	return name, opts
}

// suggestKey names the key the writer of an unknown key most likely meant:
// a key of the same mapping written another way (logLevel, log-level), one a
// typo or two away, or the same key where it belongs elsewhere in the
// structure (port at the top instead of under server).
func suggestKey(root, t reflect.Type, path, key string) string {
	norm := normalizeKey(key)
	best, bestDist := "", 3
	for _, k := range fieldKeys(t) {
		if normalizeKey(k) == norm {
			return joinPath(path, k)
		}
		if dist := editDistance(norm, normalizeKey(k)); dist < bestDist && dist <= len(norm)/3 {
			best, bestDist = joinPath(path, k), dist
		}
	}
	if best != "" {
		return best
	}
	// A shortened key: every word of it is a word of one key here
	// (max_events for max_concurrent_events).
	var longer []string
	for _, k := range fieldKeys(t) {
		if wordsWithin(key, k) {
			longer = append(longer, joinPath(path, k))
		}
	}
	if len(longer) == 1 {
		return longer[0]
	}
	// Elsewhere in the configuration, if the key is there exactly once.
	var found []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts := yamlTag(f)
			if strings.Contains(opts, "inline") {
				walk(f.Type, prefix)
				continue
			}
			p := joinPath(prefix, name)
			if normalizeKey(name) == norm && p != joinPath(path, name) {
				found = append(found, p)
			}
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, p)
			}
		}
	}
	walk(root, "")
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// wordsWithin reports whether every word of short (split at _ and -) starts
// a word of long, in order.
func wordsWithin(short, long string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '_' || r == '-' })
	}
	words, i := split(long), 0
	for _, w := range split(short) {
		for i < len(words) && !strings.HasPrefix(words[i], w) {
			i++
		}
		if i == len(words) {
			return false
		}
		i++
	}
	return true
}

// normalizeKey folds the spellings of one key: log_level, logLevel, log-level.
func normalizeKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, k)
}

// editDistance is the Levenshtein distance of two short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// SuggestKey names the key most likely meant by the unknown key at the
// dotted path (its last part is the unknown key) in a document decoded into
// root, a struct type; "" when none is close. check-config uses it for the
// repository file too.
func SuggestKey(root reflect.Type, path string) string {
	parent, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, key = path[:i], path[i+1:]
	}
	t := root
	if parent != "" {
		for _, part := range strings.Split(parent, ".") {
			f, ok := structFieldByKey(t, part)
			if !ok {
				return ""
			}
			t = f.Type
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct {
				return ""
			}
		}
	}
	return suggestKey(root, t, parent, key)
}

// structFieldByKey is fieldByKey on a type.
func structFieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts := yamlTag(f)
		if strings.Contains(opts, "inline") {
			if inner, ok := structFieldByKey(f.Type, key); ok {
				return inner, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
