// Package command reads the /rollback commands that people type in issue
// comments, pull request conversations and commit comments.
//
// A command is a line of the comment that begins (after at most three spaces)
// with the word /rollback, in any letter case, followed by its arguments
// separated by spaces or tabs:
//
//	/rollback                    the commit the comment is on (Here)
//	/rollback help               the syntax (Help)
//	/rollback <sha>              a commit: 7 to 40 hexadecimal digits (Commit)
//	/rollback <image>            the newest release of an image (Image)
//	/rollback <image>:<tag>      an image back to a tag or digest (ImageToTag)
//	/rollback <image> to <tag>   the same
//	/rollback status             the images whose automation is held (Status)
//	/rollback resume <image>     resume the image's automation (Resume); the
//	                             image may also be named by its Flux image
//	                             policy, <namespace>:<name>
//
// Anything else after /rollback is Unknown, so that the reply can show the
// syntax. Only the first command of a comment counts.
//
// Images are references as the OCI distribution grammar defines them (a
// lower-case path, with or without a registry host and port). A word of 7 to
// 40 hexadecimal digits is always a commit, never an image, and "help",
// "status" and "resume" are always those commands: an image with such a
// name is named with its registry or path, or with a tag. An
// all-hexadecimal word longer than 40 digits is Unknown, as it is neither a
// Git commit SHA nor a sensible image name.
//
// Lines that GitHub does not show as plain text are not commands: code
// blocks and code spans, block quotes, HTML comments and HTML elements that
// show code or quotes. The comment is read as CommonMark, which GitHub
// renders (markdown.go has the rules).
package command

import (
	"regexp"
	"strings"

	"github.com/distribution/reference"
)

// Kind says what a command asks for.
type Kind int

// The zero Kind is Unknown so that a zero Command never asks for anything.
const (
	// Unknown is /rollback followed by something that is not a command.
	Unknown Kind = iota
	// Help is "/rollback help".
	Help
	// Here is a bare "/rollback": on a commit comment, that commit.
	Here
	// Commit is "/rollback <sha>".
	Commit
	// Image is "/rollback <image>": the newest release of that image.
	Image
	// ImageToTag is "/rollback <image> to <tag>" or "/rollback <image>:<tag>".
	ImageToTag
	// Status is "/rollback status": which images are held.
	Status
	// Resume is "/rollback resume <image>" or "/rollback resume
	// <namespace>:<policy>": resume Flux's automation of a held image. A
	// Resume without Image or Policy names nothing yet.
	Resume
)

// String names the kind as the constants do.
func (k Kind) String() string {
	switch k {
	case Help:
		return "Help"
	case Here:
		return "Here"
	case Commit:
		return "Commit"
	case Image:
		return "Image"
	case ImageToTag:
		return "ImageToTag"
	case Status:
		return "Status"
	case Resume:
		return "Resume"
	default:
		return "Unknown"
	}
}

// Command is one /rollback command read from a comment.
type Command struct {
	Kind Kind
	// SHA is the commit of a Commit command: 7 to 40 hexadecimal digits as
	// typed, in lower case.
	SHA string
	// Image is the image of an Image or ImageToTag command as typed: a full
	// name (gcr.io/acme/api-js) or its last path element (api-js).
	Image string
	// Tag is the tag (1.2.3) or digest (sha256:...) of an ImageToTag command.
	Tag string
	// Policy is the Flux image policy of a Resume command that names one
	// ("flux-system:api"), instead of an Image.
	Policy string
	// Raw is the command as typed, from /rollback to the end of its line
	// without trailing blanks, for echoing back (the caller escapes it).
	Raw string
	// Line is the 1-based line of the comment the command stood on.
	Line int
}

// keyword opens every command; it is matched without regard to ASCII case.
const keyword = "/rollback"

// Parse returns the first command in a comment body, and whether there is
// one. Its time is linear in the length of body.
func Parse(body string) (Command, bool) {
	var s scanner
	line := 0
	for rest := body; len(rest) > 0; {
		line++
		text := rest
		end := strings.IndexAny(rest, "\r\n")
		if end < 0 {
			rest = ""
		} else {
			text = rest[:end]
			next := end + 1
			if rest[end] == '\r' && next < len(rest) && rest[next] == '\n' {
				next++
			}
			rest = rest[next:]
		}
		h, ok := s.next(text, line)
		if s.found != nil {
			h, ok = *s.found, true
		}
		if ok {
			return h.command(), true
		}
	}
	s.closeLeaf()
	if s.found != nil {
		return s.found.command(), true
	}
	return Command{}, false
}

func (h hit) command() Command {
	cmd := interpret(strings.TrimRight(h.line[h.at:], " \t"))
	cmd.Line = h.number
	return cmd
}

// startsCommand reports whether text (a line without its indentation) begins
// with the keyword as a whole word.
func startsCommand(text string) bool {
	if len(text) < len(keyword) || !equalFoldASCII(text[:len(keyword)], keyword) {
		return false
	}
	return len(text) == len(keyword) || isBlank(text[len(keyword)])
}

// interpret reads the arguments of a command line that starts with the
// keyword and has no trailing blanks.
func interpret(raw string) Command {
	cmd := Command{Kind: Unknown, Raw: raw}
	args := strings.FieldsFunc(raw[len(keyword):], func(r rune) bool { return r == ' ' || r == '\t' })
	switch {
	case len(args) == 0:
		cmd.Kind = Here
	case len(args) == 1 && equalFoldASCII(args[0], "help"):
		cmd.Kind = Help
	case len(args) == 1 && equalFoldASCII(args[0], "status"):
		cmd.Kind = Status
	case len(args) == 1 && equalFoldASCII(args[0], "resume"):
		cmd.Kind = Resume
	case len(args) == 2 && equalFoldASCII(args[0], "resume"):
		cmd.Kind, cmd.Image, cmd.Policy = resumeTarget(args[1])
	case len(args) == 1 && isHex(args[0]):
		if n := len(args[0]); n >= 7 && n <= 40 {
			cmd.Kind, cmd.SHA = Commit, strings.ToLower(args[0])
		} else if n < 7 {
			cmd.Kind, cmd.Image, cmd.Tag = imageReference(args[0])
		}
	case len(args) == 1:
		cmd.Kind, cmd.Image, cmd.Tag = imageReference(args[0])
	case len(args) == 3 && equalFoldASCII(args[1], "to"):
		cmd.Kind, cmd.Image, cmd.Tag = imageAndTag(args[0], args[2])
	}
	if cmd.Kind == Unknown {
		cmd.Image, cmd.Tag, cmd.Policy = "", "", ""
	}
	return cmd
}

// policyName matches a Flux image policy as "<namespace>:<name>": a
// Kubernetes namespace (a DNS label) and an object name (a DNS subdomain).
var policyName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$`)

// resumeTarget reads what a resume names: a Flux image policy
// ("flux-system:api"), or an image name without tag or digest (a tag has no
// meaning there, so a word with a colon and no slash is a policy).
func resumeTarget(word string) (Kind, string, string) {
	if len(word) <= maxReferenceLen && policyName.MatchString(word) {
		return Resume, "", word
	}
	if kind, name, _ := imageReference(word); kind == Image && name == word {
		return Resume, word, ""
	}
	return Unknown, "", ""
}

// imageReference reads an image reference as the OCI distribution grammar
// defines it: a name alone (Image), or a name with a tag or a digest
// (ImageToTag). A reference with both a tag and a digest is Unknown: it
// names two versions, and the command restores one.
func imageReference(word string) (Kind, string, string) {
	if len(word) > maxReferenceLen {
		return Unknown, "", ""
	}
	ref, err := reference.Parse(word)
	if err != nil {
		return Unknown, "", ""
	}
	named, ok := ref.(reference.Named)
	if !ok {
		return Unknown, "", ""
	}
	tagged, hasTag := ref.(reference.Tagged)
	digested, hasDigest := ref.(reference.Digested)
	switch {
	case hasTag && hasDigest:
		return Unknown, "", ""
	case hasTag:
		return ImageToTag, named.Name(), tagged.Tag()
	case hasDigest:
		return ImageToTag, named.Name(), digested.Digest().String()
	default:
		return Image, named.Name(), ""
	}
}

// maxReferenceLen bounds the image references worth reading: no valid one
// comes near it (a path has at most 255 characters, a DNS host 253, a tag
// 128, a sha512 digest 135), and longer words are not worth the time of the
// reference grammar's regular expression.
const maxReferenceLen = 1024

// imageAndTag reads "<image> to <tag>": the image must be a name without a
// tag, and tag a tag or a digest.
func imageAndTag(image, tag string) (Kind, string, string) {
	if kind, name, _ := imageReference(image); kind != Image || name != image {
		return Unknown, "", ""
	}
	// The reference grammar knows what a valid tag and digest are; joining
	// the two words lets it judge, and the result must give back both words
	// unchanged (a tag like "5000/x" would otherwise turn a host into a name).
	joined := image + ":" + tag
	if strings.Contains(tag, ":") {
		joined = image + "@" + tag
	}
	kind, name, version := imageReference(joined)
	if kind != ImageToTag || name != image || version != tag {
		return Unknown, "", ""
	}
	return ImageToTag, image, tag
}

// HelpText is the short reply that explains the syntax, in Markdown.
func HelpText() string {
	return helpText
}

const helpText = "**How to ask for a rollback**: write one of these at the start of a line of a comment.\n" +
	"\n" +
	"| Command | What it does |\n" +
	"| --- | --- |\n" +
	"| `/rollback` | On a commit's comments: rolls back that commit. |\n" +
	"| `/rollback <sha>` | Rolls back that commit. A SHA is 7 to 40 hexadecimal digits. |\n" +
	"| `/rollback <image>` | Rolls back the newest release of the image, named in full (`ghcr.io/acme/web`) or by its last part (`web`). |\n" +
	"| `/rollback <image> to <tag>` | Puts the image back to that tag or digest (`sha256:...`); `<image>:<tag>` says the same. |\n" +
	"| `/rollback status` | Lists the images whose Flux automation a rollback holds on the default branch, and where. |\n" +
	"| `/rollback resume <image>` | Opens a pull request that resumes Flux's automation of a held image (name it like an image, or by its image policy, `flux-system:api`). |\n" +
	"| `/rollback help` | Shows this help. |\n" +
	"\n" +
	"A word of 7 to 40 hexadecimal digits is always read as a commit: name an image that looks like one with its registry, or with a tag (the same goes for images called `help`, `status` or `resume`). " +
	"Commands inside code blocks, quotes and HTML comments are ignored, and only the first command of a comment counts.\n"

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// equalFoldASCII compares without regard to ASCII case only:
// strings.EqualFold would also take the Kelvin sign for a "k".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
