package release

import (
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// imageRef is an image reference split into its parts, exactly as written
// (no docker.io/library normalisation: the file's own spelling is kept).
type imageRef struct {
	Name, Tag, Digest string
}

// parseImageRef parses "name[:tag][@digest]" with the OCI distribution
// grammar, so that arbitrary strings under an "image" key are not taken for
// image references.
func parseImageRef(s string) (imageRef, bool) {
	ref, err := reference.Parse(s)
	if err != nil {
		return imageRef{}, false
	}
	named, ok := ref.(reference.Named)
	if !ok {
		return imageRef{}, false
	}
	r := imageRef{Name: named.Name()}
	if t, ok := ref.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := ref.(reference.Digested); ok {
		r.Digest = d.Digest().String()
	}
	return r, true
}

func (r imageRef) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

func validTag(s string) bool {
	return s != "" && reference.TagRegexp.FindString(s) == s
}

func validDigest(s string) bool {
	_, err := digest.Parse(s)
	return err == nil
}

func validName(s string) bool {
	_, err := reference.WithName(s)
	return err == nil
}

// compareRefs describes the change from one whole reference to another:
// only the tag, only the digest, or the reference as a whole.
func compareRefs(from, to imageRef) (field, fromValue, toValue string) {
	switch {
	case from.Name == to.Name && from.Digest == to.Digest && from.Tag != "" && to.Tag != "":
		return FieldTag, from.Tag, to.Tag
	case from.Name == to.Name && from.Tag == to.Tag && from.Digest != "" && to.Digest != "":
		return FieldDigest, from.Digest, to.Digest
	}
	return FieldImage, from.String(), to.String()
}
