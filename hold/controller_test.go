package hold

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// controllerMarkers restates, independently of the package's code, which
// values Flux's image-automation-controller sets, for a cluster whose
// ImagePolicies are policies ("namespace:name"). It returns the setter name
// of every value it would set, keyed by the value's 1-based line.
//
// The controller's rule, as read in its source:
//
//   - fluxcd/image-automation-controller internal/update/filereader.go
//     (commit 1789bcc8428173842ca8de1b24e2084599f7c719): ScreeningLocalReader
//     reads only files that contain the token `"$imagepolicy"` (the
//     fmt.Sprintf("%q") of SetterShortHand, internal/constants), parses each
//     with kio.ByteReader and skips, whole, any file the reader fails on.
//   - kubernetes-sigs/kustomize kyaml/kio/byteio_reader.go (commit
//     03933984c2f6021ee1f892f617b2536538740570): "\r\n" becomes "\n";
//     documents are split on the regexp `\n---.*\n`, a separator followed
//     by anything but a comment fails the file; each piece's first
//     document is decoded; empty ones are dropped; every resource gets a
//     path annotation (which fails on anything but a mapping); a lone List
//     or ResourceList is unwrapped into its items.
//   - fluxcd/image-automation-controller internal/update/setters.go (commit
//     4e3c0e09d4408309a9ad2414dba80893c4ad45c3): for every ImagePolicy with
//     a latest image it defines the setters "ns:name", "ns:name:tag",
//     "ns:name:name" and "ns:name:digest" as definitions
//     "io.k8s.cli.setters.<setter>", and calls fieldmeta.SetShortHandRef("$imagepolicy").
//   - fluxcd/image-automation-controller internal/update/filter.go (commit
//     f5847315064b91339bc571c810b052dd003d82ca): accept walks each
//     resource: mapping values (not keys), sequence items, and for every
//     scalar reads its field metadata with fieldmeta.FieldMeta.Read; a
//     resolved setter reference sets the value.
//   - kubernetes-sigs/kustomize kyaml/fieldmeta/fieldmeta.go (FieldMeta.Read
//     and processShortHand, the version with FieldMeta.SettersSchema): of the
//     node's line comment and head comment, the first that is not empty
//     decides. With its leading '#'s trimmed it must json.Unmarshal into a
//     map[string]string whose "$imagepolicy" member names a defined setter;
//     failing that, it must unmarshal as an OpenAPI schema, whose "$ref"
//     then has to resolve to a defined setter.
func controllerMarkers(content []byte, policies []string) map[int]string {
	defs := map[string]bool{}
	for _, p := range policies {
		for _, suffix := range []string{"", ":tag", ":name", ":digest"} {
			defs["io.k8s.cli.setters."+p+suffix] = true
		}
	}
	if !bytes.Contains(content, []byte(`"$imagepolicy"`)) {
		return nil
	}
	s := strings.ReplaceAll(string(content), "\r\n", "\n")
	var values []string
	var starts []int // 0-based line each value starts at
	prev := 0
	for _, loc := range regexp.MustCompile(`\n---.*\n`).FindAllStringIndex(s, -1) {
		sep := s[loc[0]:loc[1]]
		if rest := strings.TrimSpace(sep[4:]); len(rest) > 0 && rest[0] != '#' {
			return nil
		}
		values = append(values, s[prev:loc[0]])
		starts = append(starts, strings.Count(s[:prev], "\n"))
		prev = loc[1]
	}
	values = append(values, s[prev:])
	starts = append(starts, strings.Count(s[:prev], "\n"))

	type resource struct {
		node  *yaml.Node
		start int
	}
	var resources []resource
	for i := range values {
		if i != len(values)-1 {
			values[i] += "\n"
		}
		var doc yaml.Node
		err := yaml.NewDecoder(strings.NewReader(values[i])).Decode(&doc)
		if err == io.EOF {
			continue
		}
		if err != nil {
			return nil
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue
		}
		n := doc.Content[0]
		if n.Kind != yaml.MappingNode {
			return nil // SetAnnotation fails
		}
		var md, kind, items, fc *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			switch n.Content[j].Value {
			case "metadata":
				md = n.Content[j+1]
			case "kind":
				kind = n.Content[j+1]
			case "items":
				items = n.Content[j+1]
			case "functionConfig":
				fc = n.Content[j+1]
			}
		}
		if md != nil {
			if md.Kind != yaml.MappingNode {
				return nil
			}
			for j := 0; j+1 < len(md.Content); j += 2 {
				if md.Content[j].Value == "annotations" && md.Content[j+1].Kind != yaml.MappingNode {
					return nil
				}
			}
		}
		if len(values) == 1 && kind != nil && (kind.Value == "List" || kind.Value == "ResourceList") && (items != nil || fc != nil) {
			if items != nil {
				for _, it := range items.Content {
					resources = append(resources, resource{it, starts[i]})
				}
			}
			continue
		}
		resources = append(resources, resource{n, starts[i]})
	}

	got := map[int]string{}
	var accept func(n *yaml.Node, start int)
	accept = func(n *yaml.Node, start int) {
		switch n.Kind {
		case yaml.MappingNode:
			for j := 1; j < len(n.Content); j += 2 {
				accept(n.Content[j], start)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				accept(c, start)
			}
		case yaml.ScalarNode:
			if setter, ok := fieldMetaSetter(n, defs); ok {
				got[n.Line+start] = setter
			}
		}
	}
	for _, r := range resources {
		accept(r.node, r.start)
	}
	return got
}

// fieldMetaSetter is FieldMeta.Read followed by the resolution in
// filter.go's getSchema.
func fieldMetaSetter(n *yaml.Node, defs map[string]bool) (string, bool) {
	for _, c := range []string{n.LineComment, n.HeadComment} {
		if c == "" {
			continue
		}
		c = strings.TrimLeft(c, "#")
		input := map[string]string{}
		if err := json.Unmarshal([]byte(c), &input); err == nil {
			if name := input["$imagepolicy"]; name != "" && defs["io.k8s.cli.setters."+name] {
				return name, true
			}
		}
		var schema struct {
			Ref *string `json:"$ref"`
		}
		if err := json.Unmarshal([]byte(c), &schema); err != nil || schema.Ref == nil {
			return "", false
		}
		name, ok := strings.CutPrefix(*schema.Ref, "#/definitions/")
		if ok && defs[name] {
			return strings.TrimPrefix(name, "io.k8s.cli.setters."), true
		}
		return "", false
	}
	return "", false
}
