package rollback

import (
	"fmt"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/markdown"
	"github.com/fluxrollback/flux-rollback/release"
)

// RequesterTrailer names who asked for a rollback, in the commit message.
const RequesterTrailer = "Rollback-requested-by"

// revertMarker is the line `git revert` writes; a branch whose head commit
// carries it holds the revert of that commit.
func revertMarker(sha string) string { return "This reverts commit " + sha + "." }

// subject is the first line of a commit message.
func subject(message string) string {
	s, _, _ := strings.Cut(message, "\n")
	return strings.TrimSpace(s)
}

// revertMessage is the message `git revert` writes, plus a trailer naming
// the requester.
func revertMessage(c *Commit, requester string) string {
	return fmt.Sprintf("Revert \"%s\"\n\n%s\n\n%s: @%s\n", subject(c.Message), revertMarker(c.SHA), RequesterTrailer, requester)
}

// revertPullRequest describes the pull request of a revert.
func revertPullRequest(c *Commit, rel *release.Release, req Request, branch string) NewPullRequest {
	short := c.SHA[:7]
	title := fmt.Sprintf("Revert \"%s\"", subject(c.Message))
	if rel != nil && len(rel.Changes) > 0 {
		title = fmt.Sprintf("Roll back %s (revert %s)", describeTargets(rel.Changes), short)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Reverts [%s](%s): %s\n\n", short, c.URL, markdown.Code(subject(c.Message)))
	if rel != nil && len(rel.Changes) > 0 {
		writeImageTable(&b, rel.Changes, "Released", "Rolled back to")
	}
	fmt.Fprintf(&b, "Requested by @%s. This pull request is what `git revert %s` produces on the current head of `%s`; the branch `%s` holds it.\n\n",
		req.Requester, short, req.Branch, branch)
	if rel != nil {
		writeFluxWarning(&b, rel)
	}
	return NewPullRequest{Title: title, Body: b.String(), Head: branch, Base: req.Branch, Draft: req.Config.PullRequest.Draft}
}

// describeTargets says where each image goes back to, for a title.
func describeTargets(changes []release.ImageChange) string {
	parts := make([]string, 0, len(changes))
	seen := map[string]bool{}
	for _, ch := range changes {
		s := fmt.Sprintf("%s to %s", ShortImage(ch.Image), ch.From)
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// ShortImage is the last path element of an image name: "api-js" for
// gcr.io/acme/api-js.
func ShortImage(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}

// writeImageTable writes one row per image change.
func writeImageTable(b *strings.Builder, changes []release.ImageChange, newCol, oldCol string) {
	fmt.Fprintf(b, "| Image | %s | %s | File |\n|---|---|---|---|\n", newCol, oldCol)
	for _, ch := range changes {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", markdown.Escape(ch.Image), markdown.Escape(ch.To), markdown.Escape(ch.From), markdown.Escape(ch.File))
	}
	b.WriteString("\n")
}

// writeFluxWarning reminds that Flux releases the newer image again unless
// its automation is held.
func writeFluxWarning(b *strings.Builder, rel *release.Release) {
	b.WriteString("> [!WARNING]\n")
	b.WriteString("> Flux releases the newer image again unless its automation for that image is paused.")
	if rel.Generation == 2 {
		b.WriteString(" Suspend it before merging, for example `flux suspend image update <automation>`,")
		b.WriteString(" or pin the image policy to the version this pull request restores.\n\n")
	} else {
		b.WriteString(" Lock the workload before merging, for example `fluxctl lock --workload <namespace>:deployment/<name>`.\n\n")
	}
}

// restoreMarker identifies the commits that restore the images of a release.
func restoreMarker(sha string) string {
	return "This restores the image references changed by commit " + sha + "."
}

// restoreToMarker identifies the commits that set an image to a tag.
func restoreToMarker(image, tag string) string {
	return fmt.Sprintf("This restores %s to %s.", image, tag)
}

// restoreMessage names what a restore does and the releases it undoes.
func restoreMessage(p restorePlan, requester string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Roll back %s\n\n", describeTargets(p.changes))
	if undone := undoneReleases(p); len(undone) > 0 {
		b.WriteString("Undoes these releases:\n")
		for _, u := range undone {
			fmt.Fprintf(&b, "- %s\n", u)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n\n%s: @%s\n", p.marker, RequesterTrailer, requester)
	return b.String()
}

// undoneReleases lists "<short sha> <image> <tag>" for the release being
// undone and every later release of its images.
func undoneReleases(p restorePlan) []string {
	if p.later == nil && p.marker != restoreMarker(p.commit.SHA) {
		return nil
	}
	var out []string
	for _, ch := range p.changes {
		out = append(out, fmt.Sprintf("%s %s %s", p.commit.SHA[:7], ShortImage(ch.Image), ch.To))
	}
	if p.later != nil {
		for _, m := range p.later.Images {
			for _, l := range m.Later {
				out = append(out, fmt.Sprintf("%s %s %s", l.SHA[:7], ShortImage(m.Image), l.Tag))
			}
		}
	}
	return out
}

// restorePullRequest describes the pull request of a restore.
func restorePullRequest(p restorePlan, req Request) NewPullRequest {
	var b strings.Builder
	if p.marker == restoreMarker(p.commit.SHA) {
		fmt.Fprintf(&b, "Restores the images that [%s](%s) changed to the versions they had before it: %s\n\n",
			p.commit.SHA[:7], p.commit.URL, markdown.Code(subject(p.commit.Message)))
	} else {
		fmt.Fprintf(&b, "Sets the image back to a version it was released with before.\n\n")
	}
	b.WriteString("| Image | File | Restored to |\n|---|---|---|\n")
	for _, ch := range p.changes {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", markdown.Escape(ch.Image), markdown.Escape(ch.File), markdown.Escape(ch.From))
	}
	b.WriteString("\n")
	if undone := undoneReleases(p); len(undone) > 0 {
		b.WriteString("It undoes these releases:\n\n")
		for _, u := range undone {
			fmt.Fprintf(&b, "- %s\n", markdown.Escape(u))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Only these image references change; nothing else in the tree does. Requested by @%s; the branch `%s` holds it.\n\n",
		req.Requester, p.branch)
	writeFluxWarning(&b, &release.Release{Generation: generationOf(p.changes)})
	return NewPullRequest{
		Title: fmt.Sprintf("Roll back %s", describeTargets(p.changes)),
		Body:  b.String(), Head: p.branch, Base: req.Branch, Draft: req.Config.PullRequest.Draft,
	}
}

// generationOf is 2 when the references carry Flux v2 setter markers.
func generationOf(changes []release.ImageChange) int {
	for _, ch := range changes {
		if ch.Setter != "" {
			return 2
		}
	}
	return 1
}
