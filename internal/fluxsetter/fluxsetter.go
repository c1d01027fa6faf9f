// Package fluxsetter knows the setter names Flux's image-automation-controller
// defines for each ImagePolicy: "namespace:name" for the whole image
// reference, and "namespace:name:tag", "namespace:name:name" and
// "namespace:name:digest" for its parts. Release detection and holds both
// read them from image policy markers.
package fluxsetter

import (
	"regexp"
	"strings"
)

// The parts of an image reference a setter can stand for; "" is the whole
// reference.
const (
	FieldTag    = "tag"
	FieldName   = "name"
	FieldDigest = "digest"
)

// Split splits "namespace:name[:tag|:name|:digest]" into the policy
// ("namespace:name") and the field. ok is false when the setter is not of
// that shape.
func Split(setter string) (policy, field string, ok bool) {
	parts := strings.Split(setter, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	if len(parts) == 3 {
		switch parts[2] {
		case FieldTag, FieldName, FieldDigest:
		default:
			return "", "", false
		}
		return parts[0] + ":" + parts[1], parts[2], true
	}
	return setter, "", true
}

// Join is the setter of a policy's field.
func Join(policy, field string) string {
	if field == "" {
		return policy
	}
	return policy + ":" + field
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// ValidPolicy reports whether policy can name an ImagePolicy that exists:
// a namespace is a DNS label (at most 63 characters) and a custom resource's
// name a DNS subdomain (at most 253), as the Kubernetes API server requires.
// The controller defines setters only for policies that exist, so a marker
// naming anything else is never acted on.
func ValidPolicy(policy string) bool {
	ns, name, ok := strings.Cut(policy, ":")
	return ok && len(ns) <= 63 && dnsLabel.MatchString(ns) &&
		len(name) <= 253 && dnsSubdomain.MatchString(name)
}
