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
func revertPullRequest(c *Commit, rel *release.Release, req Request, branch string, plan *holdPlan) NewPullRequest {
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
	if plan != nil {
		writeHold(&b, plan.hold)
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

// holdMessage is the message of the hold commit, which follows the
// rollback's own commit on the branch. It carries the rollback's marker so
// that the branch is still recognised as holding this rollback.
func holdMessage(h *Hold, marker, requester string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hold Flux image automation for %s\n\n", h.Images())
	if len(h.Held) > 0 {
		b.WriteString("Flux's image automation no longer updates these lines, which the commit\nbefore this one sets back; only their image policy markers change:\n\n")
		for _, r := range h.Held {
			fmt.Fprintf(&b, "- %s:%d (%s)\n", r.File, r.Line, setterName(r.Policy, r.Field))
		}
		b.WriteString("\n")
	}
	if len(h.Locked) > 0 {
		b.WriteString("Flux no longer releases these workloads, locked as fluxctl lock locks them:\n\n")
		for _, w := range h.Locked {
			fmt.Fprintf(&b, "- %s (%s:%d)\n", workloadID(w.Workload), w.File, w.Line)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Resume the automation once a fixed image is released: the Resume automation\nbutton of the Rollback hold check run, or the comment /rollback resume %s.\n\n", resumeName(h))
	fmt.Fprintf(&b, "Held for the rollback: %s\n\n%s: @%s\n", marker, RequesterTrailer, requester)
	return b.String()
}

// writeHold tells how the pull request keeps Flux from releasing the newer
// image again, or, where it does not, exactly what to run.
func writeHold(b *strings.Builder, h *Hold) {
	if h == nil {
		return
	}
	if h.Off {
		b.WriteString("> [!WARNING]\n")
		b.WriteString("> Holds are off in this repository (`hold: false`): once this is merged, Flux releases the newer image again unless its automation is held by hand.\n")
		writeUnheld(b, h.Unheld, h.Automations)
		writeManualLocks(b, h.Manual)
		b.WriteString("\n")
		return
	}
	if h.Holding() {
		b.WriteString("### Flux image automation is held\n\n")
		fmt.Fprintf(b, "The second commit holds Flux's image automation for %s, so that Flux leaves the rolled-back version in place once this is merged:\n\n", markdown.Escape(h.Images()))
		for _, r := range h.Held {
			fmt.Fprintf(b, "- %s line %d: the marker of image policy %s is held; nothing else on the line changes.\n",
				markdown.Code(r.File), r.Line, markdown.Code(setterName(r.Policy, r.Field)))
		}
		for _, w := range h.Locked {
			fmt.Fprintf(b, "- %s line %d: workload %s is locked (`fluxcd.io/locked`), as `fluxctl lock` locks it.\n",
				markdown.Code(w.File), w.Line, markdown.Code(workloadID(w.Workload)))
		}
		b.WriteString("\nOnce a fixed image is released, resume the automation: **Resume automation** on the *Rollback hold* check run of the merged commit, or comment ")
		b.WriteString(markdown.Code("/rollback resume " + resumeName(h)))
		b.WriteString(". That opens a pull request that puts the markers back as they were.\n\n")
		b.WriteString(h.record(h.Release, h.Requester))
		b.WriteString("\n\n")
	}
	if len(h.Unheld) > 0 || len(h.Manual) > 0 {
		b.WriteString("> [!WARNING]\n")
		b.WriteString("> Some image references cannot be held in the files: once this is merged, Flux releases the newer image again unless their automation is held by hand.\n")
		writeUnheld(b, h.Unheld, h.Automations)
		writeManualLocks(b, h.Manual)
		b.WriteString("\n")
	}
}

// resumeName is how /rollback resume names the held image.
func resumeName(h *Hold) string {
	for _, r := range h.Held {
		if r.Image != "" {
			return ShortImage(r.Image)
		}
		return r.Policy
	}
	for _, w := range h.Locked {
		return w.Name
	}
	return "<image>"
}

// writeUnheld names the Flux v2 policies not held and the commands that
// hold them.
func writeUnheld(b *strings.Builder, unheld []release.ImageChange, automations []string) {
	if len(unheld) == 0 {
		return
	}
	var policies []string
	for _, t := range unheld {
		where := t.File
		if t.Line > 0 {
			where = fmt.Sprintf("%s:%d", t.File, t.Line)
		}
		if s := fmt.Sprintf("%s (%s)", markdown.Code(t.Policy()), markdown.Code(where)); !slices.Contains(policies, s) {
			policies = append(policies, s)
		}
	}
	fmt.Fprintf(b, ">\n> Image policy %s sets it.", strings.Join(policies, ", "))
	b.WriteString(" To hold only this image, change the marker on that line in this pull request (see the holds documentation), or turn `hold` on and roll back again.")
	b.WriteString(" To hold the whole image update automation instead, before merging run:\n>\n")
	if len(automations) == 0 {
		b.WriteString("> ```sh\n> flux get image update --all-namespaces   # find the automation that updates this file\n> flux suspend image update <name> -n <namespace>\n> ```\n")
		b.WriteString(">\n> and `flux resume image update <name> -n <namespace>` once a fixed image is released.\n")
		return
	}
	b.WriteString("> ```sh\n")
	var resume []string
	for _, a := range automations {
		ns, name, ok := strings.Cut(a, "/")
		if !ok {
			ns, name = "flux-system", a
		}
		fmt.Fprintf(b, "> flux suspend image update %s -n %s\n", name, ns)
		resume = append(resume, fmt.Sprintf("flux resume image update %s -n %s", name, ns))
	}
	b.WriteString("> ```\n>\n> and once a fixed image is released:\n>\n> ```sh\n")
	for _, r := range resume {
		fmt.Fprintf(b, "> %s\n", r)
	}
	b.WriteString("> ```\n")
}

// writeManualLocks gives the fluxctl commands for Flux v1 workloads that a
// lock in the file cannot reach.
func writeManualLocks(b *strings.Builder, locks []ManualLock) {
	if len(locks) == 0 {
		return
	}
	b.WriteString(">\n")
	for _, m := range locks {
		image := "the image"
		if m.Image != "" {
			image = markdown.Code(m.Image)
		}
		switch {
		case m.InKustomization:
			fmt.Fprintf(b, "> %s is set in the `images:` of %s, which a lock cannot reach: lock the workloads that run it (listed in that kustomization's resources) with Flux v1's automation.", image, markdown.Code(m.File))
		case m.InPatch:
			fmt.Fprintf(b, "> %s is set in the patch file %s, which a lock in the file cannot reach: lock the workload with Flux v1's automation.", image, markdown.Code(m.File))
		default:
			fmt.Fprintf(b, "> %s is set in %s, whose workload carries no `fluxcd.io/automated` annotation to lock beside: lock it with Flux v1's automation.", image, markdown.Code(m.File))
		}
		if m.Kind == "" || m.Name == "" || m.Namespace == "" {
			b.WriteString(" Fill in what the repository does not show.")
		}
		fmt.Fprintf(b, " Before merging:\n>\n> ```sh\n> fluxctl lock --workload=%s --message=%q\n> ```\n>\n> and once a fixed image is released: `fluxctl unlock --workload=%s`.\n>\n",
			m.Workload(), "Rolled back by flux-rollback", m.Workload())
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
func restorePullRequest(p restorePlan, req Request, held *holdPlan) NewPullRequest {
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
	fmt.Fprintf(&b, "The first commit changes only these image references; nothing else in the tree changes. Requested by @%s; the branch `%s` holds it.\n\n",
		req.Requester, p.branch)
	writeHold(&b, held.hold)
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

// resumeMarker identifies the commits that resume the automation of
// policies held for releases.
func resumeMarker(policies, releases []string) string {
	return fmt.Sprintf("This resumes Flux image automation for %s, held by the rollback of %s.",
		strings.Join(policies, ", "), strings.Join(releases, ", "))
}

// resumedNames names the resumed images: "api-js, web".
func resumedNames(states []HoldState) string {
	var names []string
	for _, st := range states {
		if n := st.Name(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// resumeMessage is the message of a resume commit.
func resumeMessage(states []HoldState, marker, requester string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Resume Flux image automation for %s\n\n", resumedNames(states))
	b.WriteString("Puts back the image policy markers that a rollback held, as they were:\n\n")
	for _, st := range states {
		fmt.Fprintf(&b, "- %s:%d (%s)\n", st.File, st.Line, st.Setter())
	}
	fmt.Fprintf(&b, "\n%s\n\n%s: @%s\n", marker, RequesterTrailer, requester)
	return b.String()
}

// resumePullRequest describes the pull request of a resume.
func resumePullRequest(states []HoldState, req ResumeRequest, branch string) NewPullRequest {
	var b strings.Builder
	b.WriteString("Resumes Flux's image automation for the images a rollback held: it puts back, byte for byte, the image policy markers the hold changed, and nothing else.\n\n")
	b.WriteString("| Image | Policy | File | Value now | Held by |\n|---|---|---|---|---|\n")
	for _, st := range states {
		by := "the rollback of " + st.Release
		if st.PullRequest != nil {
			by = fmt.Sprintf("#%d", st.PullRequest.Number)
		}
		image := st.Image
		if image == "" {
			image = "(policy " + st.Policy + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", markdown.Escape(image), markdown.Escape(st.Setter()),
			markdown.Escape(fmt.Sprintf("%s:%d", st.File, st.Line)), markdown.Escape(st.Value), markdown.Escape(by))
	}
	fmt.Fprintf(&b, "\nOnce this is merged, Flux's image automation updates these lines to the newest image its policy selects again. Requested by @%s; the branch `%s` holds it.\n",
		req.Requester, branch)
	return NewPullRequest{
		Title: "Resume Flux image automation for " + resumedNames(states),
		Body:  b.String(), Head: branch, Base: req.Branch, Draft: req.Config.PullRequest.Draft,
	}
}

// setterName is a marker's setter as written: "flux-system:api:tag".
func setterName(policy, field string) string {
	if field == "" {
		return policy
	}
	return policy + ":" + field
}
