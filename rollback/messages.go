package rollback

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
	b.WriteString(causeQuote(req))
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
	fmt.Fprintf(&b, "Roll back %s\n\n", restoreTargets(p.changes))
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

// restoreTargets says where each image goes back to, for a title:
// "api-js to master-f01225d, web to 1.4.2", each once.
func restoreTargets(changes []release.ImageChange) string {
	var parts []string
	for _, ch := range changes {
		if s := changeLabel(ch) + " to " + ch.From; !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// restoredAlready says that every reference of a restore holds its target
// value: "api-js is already at master-f01225d".
func restoredAlready(changes []release.ImageChange) string {
	var parts []string
	for _, ch := range changes {
		if s := changeLabel(ch) + " is already at " + ch.From; !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// changeLabel names the image of a change: its short name, or when the
// release's diff did not show the name, its Flux v2 policy or its line.
func changeLabel(ch release.ImageChange) string {
	switch {
	case ch.Image != "":
		return ShortImage(ch.Image)
	case ch.Policy() != "":
		return "the image of policy " + ch.Policy()
	}
	return fmt.Sprintf("the image at %s:%d", ch.File, ch.Line)
}

// undoneReleases lists the releases a restore of a release undoes, one line
// each: "<short sha> <image> <tag>[, <image> <tag>]", the release first and
// then the later ones oldest first. A restore to a named tag lists none: it
// is not tied to one release.
func undoneReleases(p restorePlan) []string {
	if p.marker != restoreMarker(p.commit.SHA) {
		return nil
	}
	type undone struct {
		sha   string
		date  time.Time
		parts []string
	}
	released := []*undone{{sha: p.commit.SHA}}
	add := func(u *undone, part string) {
		if !slices.Contains(u.parts, part) {
			u.parts = append(u.parts, part)
		}
	}
	for _, ch := range p.changes {
		add(released[0], changeLabel(ch)+" "+ch.To)
	}
	if p.later != nil {
		for _, m := range p.later.Images {
			for _, l := range m.Later {
				i := slices.IndexFunc(released, func(u *undone) bool { return u.sha == l.SHA })
				if i < 0 {
					// GitHub's dates are RFC 3339; one it did not give sorts first.
					date, _ := time.Parse(time.RFC3339, l.Date)
					released = append(released, &undone{sha: l.SHA, date: date})
					i = len(released) - 1
				}
				add(released[i], m.Label()+" "+l.Tag)
			}
		}
	}
	slices.SortStableFunc(released[1:], func(a, b *undone) int { return a.date.Compare(b.date) })
	out := make([]string, 0, len(released))
	for _, u := range released {
		out = append(out, u.sha[:7]+" "+strings.Join(u.parts, ", "))
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
		image := ch.Image
		if image == "" {
			image = changeLabel(ch)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", markdown.Escape(image), markdown.Escape(ch.File), markdown.Escape(ch.From))
	}
	b.WriteString("\n")
	if undone := undoneReleases(p); len(undone) > 0 {
		b.WriteString("It undoes these releases:\n\n")
		for _, u := range undone {
			fmt.Fprintf(&b, "- %s\n", markdown.Escape(u))
		}
		b.WriteString("\n")
	}
	if len(p.renamed) > 0 {
		b.WriteString("**The image's name changed since the release.** These references are set back to the whole reference that ran before it, old name included, not to the new name with the old tag (an image that may never have been pushed there):\n\n")
		for _, r := range p.renamed {
			fmt.Fprintf(&b, "- %s line %d: %s, was %s\n", markdown.Escape(r.File), r.Line, markdown.Code(r.Restored), markdown.Code(r.Now))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Only these image references change; nothing else in the tree does. Requested by @%s; the branch `%s` holds it.\n\n",
		req.Requester, p.branch)
	writeFluxWarning(&b, &release.Release{Generation: generationOf(p.changes)})
	return NewPullRequest{
		Title: "Roll back " + restoreTargets(p.changes),
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
