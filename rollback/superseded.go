package rollback

// Superseded says that the images a release changed have moved on since: a
// later commit on the branch changed the same image references, so the
// exact revert of the release no longer applies. Restoring the images to
// their versions before the release still does.
type Superseded struct {
	Images []MovedImage
}

// MovedImage is one image a release changed, and where it is now.
type MovedImage struct {
	Image  string // full image name
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
