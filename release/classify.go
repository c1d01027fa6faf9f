package release

import (
	"fmt"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/fluxsetter"
)

// parseMarker returns the setter of a line comment's marker, read as Flux's
// image-automation-controller reads it (fluxsetter.FromComment): a change
// it made carries exactly such a marker. present is set when the comment
// names "$imagepolicy" at all, so that a malformed marker is told apart
// from no marker.
func parseMarker(comment string) (setter string, present bool) {
	setter, ok := fluxsetter.FromComment(comment)
	if !ok && !strings.Contains(comment, fluxsetter.ShortHand) {
		return "", false
	}
	return setter, true
}

// splitSetter splits "namespace:name[:tag|:name|:digest]" into the policy
// and the form ("" for a whole reference). policy is "" when the setter is
// malformed.
func splitSetter(setter string) (policy, form string) {
	policy, form, ok := fluxsetter.Split(setter)
	if !ok {
		return "", ""
	}
	return policy, form
}

// classify decides whether the line old, replaced by view[idx], is an image
// reference whose value alone changed, and describes the change. view is
// the visible part of the new file.
func classify(old yamlLine, view []yamlLine, idx int) (ImageChange, string) {
	nw := view[idx]
	if !old.HasKey || !nw.HasKey || !old.Scalar || !nw.Scalar {
		return ImageChange{}, "not a single-line \"key: value\" change"
	}
	if old.Text[:old.ValueStart] != nw.Text[:nw.ValueStart] || old.Text[old.ValueEnd:] != nw.Text[nw.ValueEnd:] {
		return ImageChange{}, fmt.Sprintf("changes more than the value of %q", nw.Key)
	}
	if old.Value == nw.Value {
		return ImageChange{}, fmt.Sprintf("rewrites %q without changing its value", nw.Key)
	}
	m := mappingAround(view, idx)
	if setter, present := parseMarker(nw.Comment); present {
		if setter == "" {
			return ImageChange{}, fmt.Sprintf("malformed $imagepolicy marker %q: Flux's image automation does not read it", strings.TrimSpace(nw.Comment))
		}
		return classifySetter(setter, old.Value, nw.Value, m)
	}
	return classifyField(nw.Key, old.Value, nw.Value, m)
}

// classifySetter describes a change of a value that carries a Flux v2 marker.
func classifySetter(setter, from, to string, m mapping) (ImageChange, string) {
	policy, form := splitSetter(setter)
	if policy == "" {
		return ImageChange{}, fmt.Sprintf("malformed $imagepolicy marker %q", setter)
	}
	ch := ImageChange{Setter: setter, Field: form, From: from, To: to}
	switch form {
	case "":
		fromRef, ok1 := parseImageRef(from)
		toRef, ok2 := parseImageRef(to)
		if !ok1 || !ok2 {
			return ImageChange{}, fmt.Sprintf("%q -> %q under setter %q: not image references", from, to, setter)
		}
		ch.Image, ch.Replaced = toRef.Name, from
		ch.Field, ch.From, ch.To = compareRefs(fromRef, toRef)
		return ch, ""
	case FieldTag:
		if !validTag(from) || !validTag(to) {
			return ImageChange{}, fmt.Sprintf("%q -> %q under setter %q: not image tags", from, to, setter)
		}
	case FieldDigest:
		if !validDigest(from) || !validDigest(to) {
			return ImageChange{}, fmt.Sprintf("%q -> %q under setter %q: not image digests", from, to, setter)
		}
	case FieldName:
		if !validName(from) || !validName(to) {
			return ImageChange{}, fmt.Sprintf("%q -> %q under setter %q: not image names", from, to, setter)
		}
		if name, ok := m.kustomizeName(); ok {
			ch.Image = name
		} else {
			ch.Image = m.withRegistry(to)
		}
		return ch, ""
	}
	if name, ok := m.kustomizeName(); ok {
		ch.Image = name
	} else if name, ok := m.markedName(policy); ok {
		ch.Image = name
	} else if repo, ok := m.value("repository"); ok {
		ch.Image = m.withRegistry(repo)
	}
	return ch, ""
}

// classifyField describes a change of a value without a marker, the way
// fluxd and people write image references: "image:" fields, kustomization
// images: entries and Helm image maps (repository, tag, digest).
func classifyField(key, from, to string, m mapping) (ImageChange, string) {
	ch := ImageChange{From: from, To: to}
	switch key {
	case "image":
		fromRef, ok1 := parseImageRef(from)
		toRef, ok2 := parseImageRef(to)
		if !ok1 || !ok2 {
			return ImageChange{}, fmt.Sprintf("image %q -> %q: not image references", from, to)
		}
		ch.Image, ch.Replaced = toRef.Name, from
		ch.Field, ch.From, ch.To = compareRefs(fromRef, toRef)
		return ch, ""
	case "newTag", "newName":
		// Kustomize's own keys: nothing else in a manifest is spelled so.
		if key == "newTag" && (!validTag(from) || !validTag(to)) {
			return ImageChange{}, fmt.Sprintf("newTag %q -> %q: not image tags", from, to)
		}
		if key == "newName" && (!validName(from) || !validName(to)) {
			return ImageChange{}, fmt.Sprintf("newName %q -> %q: not image names", from, to)
		}
		ch.Field = FieldTag
		if key == "newName" {
			ch.Field = FieldName
		}
		ch.Image, _ = m.kustomizeName()
		return ch, ""
	case "digest":
		if !validDigest(from) || !validDigest(to) {
			return ImageChange{}, fmt.Sprintf("digest %q -> %q: not image digests", from, to)
		}
		ch.Field = FieldDigest
		if name, ok := m.kustomizeName(); ok {
			ch.Image = name
			return ch, ""
		}
		if !m.imageMap() {
			return ImageChange{}, "a digest outside any visible images: entry or image map"
		}
		if repo, ok := m.value("repository"); ok {
			ch.Image = m.withRegistry(repo)
		}
		return ch, ""
	case "tag":
		if !validTag(from) || !validTag(to) {
			return ImageChange{}, fmt.Sprintf("tag %q -> %q: not image tags", from, to)
		}
		if !m.imageMap() {
			return ImageChange{}, "a tag outside any visible image map (no image: parent or repository: beside it)"
		}
		ch.Field = FieldTag
		if repo, ok := m.value("repository"); ok {
			ch.Image = m.withRegistry(repo)
		}
		return ch, ""
	case "repository":
		if !validName(from) || !validName(to) {
			return ImageChange{}, fmt.Sprintf("repository %q -> %q: not image names", from, to)
		}
		_, tagged := m.value("tag")
		if !m.imageMap() && !tagged {
			return ImageChange{}, "a repository outside any visible image map (no image: parent or tag: beside it)"
		}
		ch.Field, ch.Image = FieldName, m.withRegistry(to)
		return ch, ""
	}
	return ImageChange{}, fmt.Sprintf("%q is not an image reference", key)
}

// mapping is what a hunk shows of the YAML mapping holding a line.
type mapping struct {
	siblings    []yamlLine // the mapping's visible lines, the line itself included
	parentKey   string     // the key the mapping (or its sequence) is the value of
	parentKnown bool
}

// mappingAround finds the mapping view[idx] belongs to, by indentation:
// siblings share its key column, a line indented less is the parent, and a
// "- " line at that column starts the mapping as a sequence item.
func mappingAround(view []yamlLine, idx int) mapping {
	m := mapping{siblings: []yamlLine{view[idx]}}
	indent := view[idx].Indent
	start, itemDash := idx, view[idx].Dash
	for j := idx - 1; j >= 0 && itemDash < 0; j-- {
		l := view[j]
		if l.Blank || l.Indent > indent {
			continue
		}
		if l.Indent == indent {
			m.siblings = append(m.siblings, l)
			start, itemDash = j, l.Dash
			continue
		}
		m.parentKey, m.parentKnown = l.Key, l.Open
		break
	}
	if itemDash >= 0 {
		// The mapping is a sequence item: the parent holds the sequence.
		for j := start - 1; j >= 0; j-- {
			l := view[j]
			if l.Blank || l.Indent > itemDash || l.Dash == itemDash {
				continue
			}
			m.parentKey, m.parentKnown = l.Key, l.Open
			break
		}
	}
	for j := idx + 1; j < len(view); j++ {
		l := view[j]
		if l.Blank || l.Indent > indent {
			continue
		}
		if l.Indent < indent || l.Dash >= 0 {
			break
		}
		m.siblings = append(m.siblings, l)
	}
	return m
}

// value returns the scalar value of the visible sibling key.
func (m mapping) value(key string) (string, bool) {
	for _, l := range m.siblings {
		if l.HasKey && l.Key == key && l.Scalar {
			return l.Value, true
		}
	}
	return "", false
}

// kustomizeName returns the name of the kustomization images: entry the
// mapping is, when it is one.
func (m mapping) kustomizeName() (string, bool) {
	name, ok := m.value("name")
	if !ok {
		return "", false
	}
	if m.parentKnown && m.parentKey == "images" {
		return name, true
	}
	for _, k := range []string{"newTag", "newName", "digest"} {
		if _, ok := m.value(k); ok {
			return name, true
		}
	}
	return "", false
}

// markedName returns the value of the sibling marked as the name of policy.
func (m mapping) markedName(policy string) (string, bool) {
	for _, l := range m.siblings {
		if setter, _ := parseMarker(l.Comment); l.Scalar && setter == policy+":"+FieldName {
			return l.Value, true
		}
	}
	return "", false
}

// imageMap reports whether the mapping looks like a Helm image map: the
// value of a key such as image or sidecarImage, or holding a repository.
func (m mapping) imageMap() bool {
	if m.parentKnown && strings.HasSuffix(strings.ToLower(m.parentKey), "image") {
		return true
	}
	_, ok := m.value("repository")
	return ok
}

// withRegistry prefixes repo with the map's registry, as charts that split
// the two (registry: docker.io, repository: bitnami/nginx) combine them.
func (m mapping) withRegistry(repo string) string {
	if reg, ok := m.value("registry"); ok && reg != "" {
		return strings.TrimSuffix(reg, "/") + "/" + repo
	}
	return repo
}
