package release

import "fmt"

// Concerns reports whether c and o are about the same image reference: the
// same Flux v2 image policy, or the same image name.
func (c ImageChange) Concerns(o ImageChange) bool {
	if p := c.Policy(); p != "" && p == o.Policy() {
		return true
	}
	return c.Image != "" && c.Image == o.Image
}

// LaterReleases returns the releases of history (a repository's releases,
// newest first) that came after the release sha and changed one of the same
// images, newest first. Rolling sha back while one of them stands means
// stepping over it.
func LaterReleases(history []Release, sha string) ([]Release, error) {
	at := -1
	for i, r := range history {
		if r.SHA == sha {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("find later releases: %s is not among the %d releases given", sha, len(history))
	}
	var later []Release
	for _, r := range history[:at] {
		if sharesImage(r, history[at]) {
			later = append(later, r)
		}
	}
	return later, nil
}

func sharesImage(a, b Release) bool {
	for _, x := range a.Changes {
		for _, y := range b.Changes {
			if x.Concerns(y) {
				return true
			}
		}
	}
	return false
}

// ImageTags returns the tags image has had according to history (newest
// first): every tag a release set and the one each release replaced, newest
// first and each once. A "/rollback <image> to <tag>" naming a tag not in
// this list asks for a version that was never released and is refused.
func ImageTags(history []Release, image string) []string {
	if image == "" {
		return nil // changes whose image the diff did not show have Image ""
	}
	var tags []string
	seen := make(map[string]bool)
	add := func(tag string) {
		if tag != "" && !seen[tag] {
			seen[tag] = true
			tags = append(tags, tag)
		}
	}
	for _, r := range history {
		for _, ch := range r.Changes {
			switch ch.Field {
			case FieldTag:
				if ch.Image == image {
					add(ch.To)
					add(ch.From)
				}
			case FieldImage:
				// A whole reference changed: each side counts for the
				// image it names.
				for _, v := range []string{ch.To, ch.From} {
					if ref, ok := parseImageRef(v); ok && ref.Name == image {
						add(ref.Tag)
					}
				}
			}
		}
	}
	return tags
}

// HadTag reports whether image has had tag according to history.
func HadTag(history []Release, image, tag string) bool {
	for _, t := range ImageTags(history, image) {
		if t == tag {
			return true
		}
	}
	return false
}
