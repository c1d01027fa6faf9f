package rollback

import (
	"bytes"
	"errors"
	"io"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fluxrollback/flux-rollback/release"
)

// manualLocks lists the Flux v1 workloads to lock by hand for the lines a
// rollback sets back in a file where no lock could be added: each image of
// a kustomization's images: list (its workloads live in other files; the
// kustomization shows at most their namespace), or the workload of the
// document holding each line (a .flux.yaml patch file, or a manifest
// without fluxcd.io/automated).
func manualLocks(file string, content []byte, lines []int, targets []release.ImageChange) []ManualLock {
	var out []ManualLock
	add := func(m ManualLock) {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	docs := yamlDocuments(content)
	if isKustomization(file) {
		namespace := ""
		if len(docs) > 0 {
			namespace = scalar(docs[0].node, "namespace")
		}
		for _, t := range targets {
			add(ManualLock{File: file, Image: t.Image, Namespace: namespace, InKustomization: true})
		}
		return out
	}
	for _, line := range lines {
		for _, d := range docs {
			if line < d.start || line > d.end {
				continue
			}
			add(ManualLock{
				File: file, Image: imageAtLine(targets, line),
				Namespace: scalar(d.node, "metadata", "namespace"), Kind: scalar(d.node, "kind"), Name: scalar(d.node, "metadata", "name"),
				InPatch: path.Base(file) == ".flux.yaml" || strings.Contains(path.Base(file), "patch"),
			})
		}
	}
	return out
}

// imageAtLine is the image of the reference on line, or of the file's only
// reference.
func imageAtLine(targets []release.ImageChange, line int) string {
	for _, t := range targets {
		if t.Line == line {
			return t.Image
		}
	}
	if len(targets) == 1 {
		return targets[0].Image
	}
	return ""
}

// isKustomization reports whether file is a kustomization, by kustomize's
// own file names.
func isKustomization(file string) bool {
	switch path.Base(file) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// yamlDocument is one document of a YAML stream and its lines.
type yamlDocument struct {
	node       *yaml.Node // the document's root mapping
	start, end int        // 1-based, inclusive
}

// yamlDocuments splits content into its documents; a stream that does not
// parse yields the documents before the error.
func yamlDocuments(content []byte) []yamlDocument {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var docs []yamlDocument
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		docs = append(docs, yamlDocument{node: root, start: root.Line})
	}
	total := bytes.Count(content, []byte("\n")) + 1
	for i := range docs {
		docs[i].end = total
		if i+1 < len(docs) {
			docs[i].end = docs[i+1].start - 1
		}
		if i == 0 {
			docs[i].start = 1
		}
	}
	return docs
}

// scalar reads the scalar at keys below a mapping, or "".
func scalar(n *yaml.Node, keys ...string) string {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return ""
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// maxResourceReads bounds the resources of a kustomization read to find
// the workloads that run an image.
const maxResourceReads = 10

// kustomizationResources lists the resources of a kustomization that are
// files beside it (YAML files, no directories, nothing outside it).
func kustomizationResources(content []byte) []string {
	docs := yamlDocuments(content)
	if len(docs) == 0 {
		return nil
	}
	var out []string
	for _, key := range []string{"resources", "bases"} {
		var list *yaml.Node
		for i := 0; i+1 < len(docs[0].node.Content); i += 2 {
			if docs[0].node.Content[i].Value == key {
				list = docs[0].node.Content[i+1]
			}
		}
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range list.Content {
			p := strings.TrimPrefix(item.Value, "./")
			if item.Kind == yaml.ScalarNode && release.MightHoldImages(p) && !strings.Contains(p, "/") && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// workloadsRunning lists the documents of content whose containers run
// image (any tag or digest of it), as Flux v1 workloads to lock.
func workloadsRunning(file string, content []byte, image string) []ManualLock {
	var out []ManualLock
	for _, d := range yamlDocuments(content) {
		if !runsImage(d.node, image) {
			continue
		}
		out = append(out, ManualLock{File: file, Image: image,
			Namespace: scalar(d.node, "metadata", "namespace"), Kind: scalar(d.node, "kind"), Name: scalar(d.node, "metadata", "name")})
	}
	return out
}

// runsImage reports whether an "image" value below n names image.
func runsImage(n *yaml.Node, image string) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "image" && v.Kind == yaml.ScalarNode &&
				(v.Value == image || strings.HasPrefix(v.Value, image+":") || strings.HasPrefix(v.Value, image+"@")) {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if runsImage(c, image) {
			return true
		}
	}
	return false
}
