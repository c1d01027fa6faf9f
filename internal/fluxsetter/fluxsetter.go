// Package fluxsetter knows the setter names Flux's image-automation-controller
// defines for each ImagePolicy: "namespace:name" for the whole image
// reference, and "namespace:name:tag", "namespace:name:name" and
// "namespace:name:digest" for its parts. Release detection and holds both
// read them from image policy markers.
package fluxsetter

import (
	"encoding/json"
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

// ShortHand is the key of an image policy marker, the shorthand reference
// the controller registers with kyaml (fieldmeta.SetShortHandRef).
const ShortHand = "$imagepolicy"

// refPrefix starts the long form of a setter reference that kyaml's field
// metadata resolves too: {"$ref": "#/definitions/io.k8s.cli.setters.<setter>"}.
const refPrefix = "#/definitions/io.k8s.cli.setters."

// FromComment reads a YAML comment as Flux's image-automation-controller
// does (kyaml's fieldmeta.FieldMeta.Read): with its leading '#'s trimmed,
// the rest must be one JSON object whose "$imagepolicy" member names a
// setter the controller can define; failing that, whose "$ref" does. Text
// before or after the object, a member that is not a string, or another
// spelling of the key make it an ordinary comment. docs/holds.md cites the
// source.
func FromComment(comment string) (setter string, ok bool) {
	c := []byte(strings.TrimLeft(comment, "#"))
	var short map[string]string
	if json.Unmarshal(c, &short) == nil {
		if name := short[ShortHand]; name != "" && Defined(name) {
			return name, true
		}
	}
	var long map[string]json.RawMessage
	if json.Unmarshal(c, &long) != nil {
		return "", false
	}
	var ref string
	if raw, ok := long["$ref"]; !ok || json.Unmarshal(raw, &ref) != nil {
		return "", false
	}
	name, ok := strings.CutPrefix(ref, refPrefix)
	if !ok || !Defined(name) {
		return "", false
	}
	return name, true
}

// Defined reports whether name is a setter the controller defines for some
// ImagePolicy: "namespace:name" or its ":tag", ":name" and ":digest" forms,
// for names Kubernetes allows. The controller defines setters only for the
// policies that exist, which a file cannot tell; this is the most it shows.
func Defined(name string) bool {
	policy, _, ok := Split(name)
	return ok && ValidPolicy(policy)
}

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
