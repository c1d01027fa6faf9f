package rollback

import "slices"

// Superseded says that the images a release changed have moved on since: a
// later commit on the branch changed the same image references, so the
// exact revert of the release no longer applies. Restoring the images to
// their versions before the release still does.
type Superseded struct {
	Images []MovedImage
}

// MovedImage is one image a release changed, and where it is now.
type MovedImage struct {
	Image  string // full image name; "" when the release's diff did not show it
	Policy string // the Flux v2 image policy marking the reference, "" without a marker
	Before string // tag or digest before the rolled-back release
	Now    string // tag or digest on the branch head
	// Later are the releases of this image after the rolled-back one, oldest
	// first; the last one set Now.
	Later []LaterRelease
}

// LaterRelease is a release of an image after the rolled-back one.
type LaterRelease struct {
	SHA  string
	Tag  string
	Date string // RFC 3339, as GitHub gives it
}

// add records m unless the same move is recorded already: one policy
// marking an image in several files makes one move per file, and the
// report names each move once.
func (s *Superseded) add(m MovedImage) {
	for _, o := range s.Images {
		if o.Image == m.Image && o.Policy == m.Policy && o.Before == m.Before && o.Now == m.Now && slices.Equal(o.Later, m.Later) {
			return
		}
	}
	s.Images = append(s.Images, m)
}

// Label names the image for people: its last path element, or its policy
// when the release did not show the name.
func (m MovedImage) Label() string {
	switch {
	case m.Image != "":
		return ShortImage(m.Image)
	case m.Policy != "":
		return "the image of policy " + m.Policy
	}
	return "the image"
}
