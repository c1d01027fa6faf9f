// Package report words what flux-rollback found and did: the check run on a
// release commit, its progress after a click, and the replies to comment
// commands. Everything that came from a commit or a comment is escaped.
package report

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fluxrollback/flux-rollback/internal/markdown"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// CheckRunName is the name of flux-rollback's check run on a release.
const CheckRunName = "Rollback"

// ConfigCheckRunName names the check run that reports a broken
// configuration file.
const ConfigCheckRunName = "Rollback configuration"

// Action is a button on a check run.
type Action struct {
	Label, Identifier, Description string
}

// CheckRun is what a check run shows.
type CheckRun struct {
	Name       string // CheckRunName when empty
	Status     string // "queued", "in_progress" or "completed"
	Conclusion string // with "completed": "neutral", "success", "failure", "action_required"
	Title      string
	Summary    string
	Text       string
	// Actions are the check run's buttons. Nil leaves the buttons as they
	// are; an empty, non-nil list removes them.
	Actions    []Action
	ExternalID string
}

// Action identifiers; GitHub caps identifiers and labels at 20 characters
// and descriptions at 40.
const (
	ActionRollback = "rollback"
	ActionRestore  = "restore"
)

var (
	rollbackAction = Action{Label: "Roll back", Identifier: ActionRollback, Description: "Open a pull request reverting this"}
	restoreAction  = Action{Label: "Restore", Identifier: ActionRestore, Description: "Open a pull request restoring images"}
)

// maxTitle keeps titles readable in GitHub's checks list.
const maxTitle = 120

// Release is the check run on a release commit, before anyone clicked.
func Release(rel *release.Release, branch string) CheckRun {
	var b strings.Builder
	b.WriteString("Flux released this commit.\n\n")
	writeChanges(&b, rel.Changes)
	writeReformatted(&b, rel.Reformatted)
	fmt.Fprintf(&b, "**Roll back** opens a pull request that reverts this commit on %s, exactly as `git revert %s` would.\n",
		markdown.Code(branch), short(rel.SHA))
	return CheckRun{
		Status:     "completed",
		Conclusion: "neutral",
		Title:      Title(rel.Changes),
		Summary:    b.String(),
		Actions:    []Action{rollbackAction},
		ExternalID: rel.SHA,
	}
}

// writeReformatted says which files the release rewrote beyond their image
// references, and that the revert restores their formatting too.
func writeReformatted(b *strings.Builder, files []string) {
	if len(files) == 0 {
		return
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = markdown.Code(f)
	}
	fmt.Fprintf(b, "Flux also reformatted %s in this commit (indentation, document markers or a patch file written): as data, only the image references above changed. Rolling back restores the earlier formatting too, as `git revert` does.\n\n",
		strings.Join(quoted, ", "))
}

// Title summarises a release's image changes on one line, e.g.
// "api-js master-f01225d -> master-26a4b87".
func Title(changes []release.ImageChange) string {
	if len(changes) == 0 {
		return "Flux release"
	}
	first := changes[0]
	title := fmt.Sprintf("%s %s -> %s", rollback.ShortImage(first.Image), valueOrUnset(first.From), first.To)
	if n := len(changes) - 1; n > 0 {
		title += fmt.Sprintf(" and %d more", n)
	}
	return truncate(title, maxTitle)
}

// writeChanges writes the image | from | to | file table.
func writeChanges(b *strings.Builder, changes []release.ImageChange) {
	b.WriteString("| Image | From | To | File |\n|---|---|---|---|\n")
	for _, c := range changes {
		file := c.File
		if c.Line > 0 {
			file = fmt.Sprintf("%s:%d", c.File, c.Line)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", markdown.Escape(c.Image), markdown.Escape(valueOrUnset(c.From)), markdown.Escape(c.To), markdown.Escape(file))
	}
	b.WriteString("\n")
}

// valueOrUnset shows the value a release replaced, or says there was none
// in the file: a Flux v1 patch file sets a reference its manifest holds.
func valueOrUnset(v string) string {
	if v == "" {
		return "(set in the manifest)"
	}
	return v
}

// InProgress is the check run while a rollback is being made.
func InProgress(requester string, restore bool) CheckRun {
	what := "Rolling back"
	if restore {
		what = "Restoring the images"
	}
	return CheckRun{
		Status:  "in_progress",
		Title:   what + "…",
		Summary: fmt.Sprintf("%s, as @%s asked. This takes a few seconds.", what, markdown.Escape(requester)),
	}
}

// Done is the check run once the pull request is open.
func Done(out *rollback.Outcome, requester string) CheckRun {
	return CheckRun{
		Status:     "completed",
		Conclusion: "neutral",
		Title:      truncate(fmt.Sprintf("Rollback pull request #%d %s", out.PullRequest.Number, openedOrExisting(out)), maxTitle),
		Summary:    OutcomeText(out, requester),
		Actions:    []Action{rollbackAction},
	}
}

func openedOrExisting(out *rollback.Outcome) string {
	if out.Existing {
		return "is already open"
	}
	return "opened"
}

// OutcomeText says where the pull request is.
func OutcomeText(out *rollback.Outcome, requester string) string {
	var b strings.Builder
	if out.Existing {
		fmt.Fprintf(&b, "The rollback of %s is already open: [#%d](%s) (branch %s).\n",
			short(out.Commit.SHA), out.PullRequest.Number, out.PullRequest.URL, markdown.Code(out.Branch))
	} else {
		fmt.Fprintf(&b, "Opened [#%d](%s) for @%s: it rolls back %s on branch %s.\n",
			out.PullRequest.Number, out.PullRequest.URL, markdown.Escape(requester), short(out.Commit.SHA), markdown.Code(out.Branch))
	}
	if len(out.Targets) > 0 {
		b.WriteString("\n| Image | Released | Rolled back to | File |\n|---|---|---|---|\n")
		for _, t := range out.Targets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", markdown.Escape(imageLabel(t)), markdown.Escape(t.To), markdown.Escape(t.From), markdown.Escape(t.File))
		}
		b.WriteString("\n")
		b.WriteString(holdSentence(out.Hold))
	}
	b.WriteString(renamedText(out.Renamed))
	return b.String()
}

// renamedText warns that a restore writes back an image name the head no
// longer uses: the reference that ran before the release, not the new name
// with the old tag, which may never have been pushed there.
func renamedText(renamed []release.Renamed) string {
	if len(renamed) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n**The image's name changed since the release.** The restore puts back the whole reference that ran before it, old name included:\n\n")
	for _, r := range renamed {
		fmt.Fprintf(&b, "- %s line %d: %s, now %s\n", markdown.Escape(r.File), r.Line, markdown.Code(r.Restored), markdown.Code(r.Now))
	}
	return b.String()
}

// Refused is the check run after a refusal. A refusal never turns the commit
// red: the release itself is not at fault.
func Refused(r *rollback.Refusal) CheckRun {
	actions := []Action{rollbackAction}
	if r.Superseded != nil {
		actions = append(actions, restoreAction)
	}
	return CheckRun{
		Status:     "completed",
		Conclusion: "neutral",
		Title:      truncate("Rollback refused: "+string(r.Reason), maxTitle),
		Summary:    RefusalText(r),
		Actions:    actions,
	}
}

// RefusalText explains a refusal; conflicts list their files and hunks.
func RefusalText(r *rollback.Refusal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Nothing was created: %s.\n", markdown.Escape(r.Detail))
	if r.Conflict != nil {
		b.WriteString("\n")
		writeConflict(&b, r.Conflict)
	}
	if r.Superseded != nil {
		b.WriteString("\n")
		writeSuperseded(&b, r.Superseded)
	}
	if r.Resumed != nil {
		fmt.Fprintf(&b, "\nThe resume pull request: [#%d](%s), merged.\n", r.Resumed.Number, r.Resumed.URL)
	}
	return b.String()
}

// writeConflict lists each conflicting file and its hunks.
func writeConflict(b *strings.Builder, c *revert.ConflictError) {
	for _, f := range c.Files {
		fmt.Fprintf(b, "- %s: %s\n", markdown.Code(f.Path), markdown.Escape(string(f.Kind)))
		for _, h := range f.Hunks {
			b.WriteString("\n")
			b.WriteString(markdown.CodeBlock("", conflictHunkText(h)))
		}
	}
}

// Failed is the check run when GitHub failed us: the user is told to try
// again, and the error is returned to the dispatcher so the delivery fails.
func Failed(err error) CheckRun {
	return CheckRun{
		Status:     "completed",
		Conclusion: "neutral",
		Title:      "Rollback failed: try again",
		Summary:    fmt.Sprintf("GitHub did not complete a request, so the rollback was not finished: %s.\n\nClick **Roll back** again: anything already created is reused.", markdown.Escape(errorText(err))),
		Actions:    []Action{rollbackAction},
	}
}

// errorText is the error's text without anything that could carry a token.
func errorText(err error) string {
	var refusal *rollback.Refusal
	if errors.As(err, &refusal) {
		return refusal.Detail
	}
	return err.Error()
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// truncate shortens s to fewer than n bytes and an ellipsis, cutting between
// characters: text from commits need not be ASCII.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 1
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// writeSuperseded explains, in image terms, why the exact revert no longer
// applies and what Restore would do.
func writeSuperseded(b *strings.Builder, s *rollback.Superseded) {
	for _, m := range s.Images {
		last := m.Later[len(m.Later)-1]
		noun := "releases"
		if len(m.Later) == 1 {
			noun = "release"
		}
		// The label starts the sentence; only a policy's "the image of ..."
		// is capitalised, never an image's own name.
		label := m.Label()
		if m.Image == "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
		fmt.Fprintf(b, "%s is now at %s, released in %s (%d %s after this one); reverting this commit alone no longer applies.\n\n",
			markdown.Escape(label), markdown.Code(m.Now), short(last.SHA), len(m.Later), noun)
		b.WriteString("| Later release | Tag | Date |\n|---|---|---|\n")
		for _, l := range m.Later {
			fmt.Fprintf(b, "| %s | %s | %s |\n", short(l.SHA), markdown.Escape(l.Tag), markdown.Escape(l.Date))
		}
		b.WriteString("\n")
	}
	b.WriteString("Restoring puts these images back to the versions they had before this release, undoing it and every later release of them, and changes nothing else.\n")
}

// RefusalReply answers a comment command that was refused. When the images
// moved on since the release, it names the command that restores them.
func RefusalReply(r *rollback.Refusal) string {
	var b strings.Builder
	b.WriteString(RefusalText(r))
	if r.Superseded != nil {
		b.WriteString("\nTo restore them, comment:\n\n")
		for _, m := range r.Superseded.Images {
			if tag, ok := restorableTag(m); ok && len(m.Later) > 0 {
				b.WriteString(markdown.CodeBlock("", fmt.Sprintf("/rollback %s to %s", m.Image, tag)))
			} else {
				fmt.Fprintf(&b, "%s cannot be restored by a comment; use **Restore** on the check run of %s.\n",
					markdown.Escape(m.Label()), short(r.Commit))
			}
		}
	}
	return b.String()
}

// conflictHunkText shows a conflicting region the way git's diff3 conflict
// style does: the branch head, the release commit, and what the revert
// would restore.
func conflictHunkText(h revert.ConflictHunk) string {
	var b strings.Builder
	section := func(marker, label string, r revert.LineRange) {
		fmt.Fprintf(&b, "%s %s (line %d)\n", marker, label, max(r.Start, 1))
		for _, l := range r.Lines {
			b.WriteString(l)
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
		}
	}
	section("<<<<<<<", "branch head", h.Head)
	section("|||||||", "release commit", h.Base)
	b.WriteString("=======\n")
	for _, l := range h.Parent.Lines {
		b.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, ">>>>>>> before the release (line %d)\n", max(h.Parent.Start, 1))
	return b.String()
}

// imageLabel names an image reference for a table: its name, or its Flux
// policy when the release did not show the name.
func imageLabel(c release.ImageChange) string {
	if c.Image != "" {
		return c.Image
	}
	return "policy " + c.Policy()
}

// restorableTag is the tag a `/rollback <image> to <tag>` comment restores m
// with: only named images whose tag changed can be named that way.
func restorableTag(m rollback.MovedImage) (string, bool) {
	if m.Image == "" {
		return "", false
	}
	before := m.Before
	if rest, ok := strings.CutPrefix(before, m.Image+":"); ok {
		before = rest // a whole reference of the same image
	}
	if before == "" || strings.ContainsAny(before, "/:@") {
		return "", false // a digest, or another image name
	}
	return before, true
}

// BrokenConfig is the check run that shows, on a pushed commit, which
// configuration file is wrong and why.
func BrokenConfig(source string, problem error) CheckRun {
	return CheckRun{
		Name:       ConfigCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      "The flux-rollback configuration is invalid",
		Summary:    BrokenConfigText(source, problem),
	}
}

// RefusedBrokenConfig is the Rollback check run after a click that the
// broken configuration file refused; its buttons are removed.
func RefusedBrokenConfig(source string, problem error) CheckRun {
	return CheckRun{
		Status:     "completed",
		Conclusion: "neutral",
		Title:      "Rollback refused: the configuration is invalid",
		Summary:    BrokenConfigText(source, problem),
		Actions:    []Action{},
	}
}

// BrokenConfigText tells which file is wrong and why.
func BrokenConfigText(source string, problem error) string {
	return fmt.Sprintf("flux-rollback does nothing in this repository until its configuration is fixed.\n\n%s: %s\n",
		markdown.Code(source), markdown.Escape(problem.Error()))
}

// RefusedBrokenConfigReply answers a comment command that the broken
// configuration file refused.
func RefusedBrokenConfigReply(source string, problem error) string {
	return "Not rolled back: the configuration is invalid. " + BrokenConfigText(source, problem)
}

// FailureReply tells the user that GitHub failed and the command can be
// repeated safely.
func FailureReply(err error) string {
	return fmt.Sprintf("The rollback could not be finished because a GitHub request failed: %s.\n\nRepeat the command: anything already created is reused.", markdown.Escape(err.Error()))
}

// holdSentence says whether the pull request keeps Flux from releasing the
// newer image again.
func holdSentence(h *rollback.Hold) string {
	switch {
	case h != nil && h.Holding() && len(h.Unheld) == 0 && len(h.Manual) == 0:
		return fmt.Sprintf("Its second commit holds Flux's image automation for %s: once merged, Flux leaves the rolled-back version in place until the automation is resumed.\n", markdown.Escape(h.Images()))
	case h != nil && h.Holding():
		return fmt.Sprintf("Its second commit holds Flux's image automation for %s; the rest must be held by hand before merging, or Flux releases the newer image again: the pull request says how.\n", markdown.Escape(h.Images()))
	case h != nil && h.Off:
		return "Holds are off in this repository (`hold: false`): Flux releases the newer image again unless its automation is held by hand; the pull request says how.\n"
	}
	return "Flux releases the newer image again unless its automation for that image is held by hand: the pull request says how.\n"
}

// UnknownCommandReply answers a /rollback command that is not one, quoting
// it (shortened) and then help.
func UnknownCommandReply(raw, help string) string {
	return fmt.Sprintf("I don't know %s.\n\n%s", markdown.Code(echo(raw)), help)
}

// NoCommitHereReply answers /rollback alone where no commit is meant: it
// means the commented commit only on a commit's comments.
func NoCommitHereReply(help string) string {
	return fmt.Sprintf("%s alone works on a commit's comments; here, name the commit or the image.\n\n%s", markdown.Code("/rollback"), help)
}

// DisabledReply answers a command in a repository whose configuration turns
// flux-rollback off.
const DisabledReply = "flux-rollback is disabled in this repository's configuration."

// maxEcho bounds how much of a command a reply quotes, so that a reply to
// the longest comment still fits in one (GitHub refuses comments longer
// than 65,536 characters).
const maxEcho = 200

// echo shortens text quoted from a comment to maxEcho bytes, cutting
// between characters.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
