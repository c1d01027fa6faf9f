package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/markdown"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// HoldCheckRunName names the check run on a commit that brought or changed
// held image references.
const HoldCheckRunName = "Rollback hold"

// ActionResume is the identifier of the Resume automation button.
const ActionResume = "resume"

var resumeAction = Action{Label: "Resume automation", Identifier: ActionResume, Description: "Open a pull request resuming Flux"}

// Held is the check run on a commit that brought holds to the branch, or
// changed held lines: "Held: api-js at master-f01225d".
func Held(states []rollback.HoldState, branch string) CheckRun {
	first := states[0]
	title := fmt.Sprintf("Held: %s at %s", first.Name(), first.Version())
	if first.Workload != nil {
		title = fmt.Sprintf("Held: %s (locked)", first.Setter())
	}
	if n := countNames(states) - 1; n > 0 {
		title += fmt.Sprintf(" and %d more", n)
	}
	edited := slices.ContainsFunc(states, rollback.HoldState.Edited)
	if edited {
		title += " (edited by hand, still held)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Flux's image automation is held on %s for these image references: Flux does not update them until the hold is resumed.\n\n", markdown.Code(branch))
	writeHolds(&b, states)
	if edited {
		for _, st := range states {
			if st.Edited() {
				fmt.Fprintf(&b, "A person changed %s line %d since it was held, from %s to %s. The hold is still in place: Flux leaves the line as it is now.\n\n",
					markdown.Code(st.File), st.Line, markdown.Code(st.HeldValue), markdown.Code(st.Value))
			}
		}
	}
	b.WriteString("Once a fixed image is released, **Resume automation** opens a pull request that puts the image policy markers back as they were (and unlocks the Flux v1 workloads locked); once it is merged, Flux releases the newest image again.\n")
	return CheckRun{
		Name:       HoldCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      truncate(title, maxTitle),
		Summary:    b.String(),
		Actions:    []Action{resumeAction},
	}
}

func countNames(states []rollback.HoldState) int {
	var names []string
	for _, st := range states {
		if !slices.Contains(names, st.Name()) {
			names = append(names, st.Name())
		}
	}
	return len(names)
}

// writeHolds writes one row per held line.
func writeHolds(b *strings.Builder, states []rollback.HoldState) {
	b.WriteString("| Image | Held at | Policy | File | Since | Asked by | Pull request |\n|---|---|---|---|---|---|---|\n")
	for _, st := range states {
		image, value, setter, since, by, pr := st.Image, markdown.Code(st.Value), markdown.Code(st.Setter()), "", "", ""
		if image == "" {
			image = "(not shown)"
		}
		if st.Workload != nil {
			image, value, setter = st.Setter(), "locked", "`fluxcd.io/locked`"
		}
		if st.PullRequest != nil {
			since = st.PullRequest.MergedAt
			pr = fmt.Sprintf("[#%d](%s)", st.PullRequest.Number, st.PullRequest.URL)
		} else {
			pr = "the rollback of " + st.Release
		}
		if st.Requester != "" {
			by = "@" + markdown.Escape(st.Requester)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", markdown.Escape(image), value, setter,
			markdown.Escape(fmt.Sprintf("%s:%d", st.File, st.Line)), markdown.Escape(since), by, pr)
	}
	b.WriteString("\n")
}

// ResumeInProgress is the hold check run while a resume is being made.
func ResumeInProgress(requester string) CheckRun {
	return CheckRun{
		Name:    HoldCheckRunName,
		Status:  "in_progress",
		Title:   "Resuming the automation…",
		Summary: fmt.Sprintf("Opening a pull request that resumes Flux's image automation, as @%s asked.", markdown.Escape(requester)),
	}
}

// ResumeDone is the hold check run once the resume's pull request is open.
func ResumeDone(out *rollback.ResumeOutcome, requester string) CheckRun {
	verb := "opened"
	if out.Existing {
		verb = "is already open"
	}
	return CheckRun{
		Name:       HoldCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      truncate(fmt.Sprintf("Resume pull request #%d %s", out.PullRequest.Number, verb), maxTitle),
		Summary:    ResumeText(out, requester),
		Actions:    []Action{resumeAction},
	}
}

// ResumeText says where the resume's pull request is.
func ResumeText(out *rollback.ResumeOutcome, requester string) string {
	var b strings.Builder
	if out.Existing {
		fmt.Fprintf(&b, "The resume is already open: [#%d](%s) (branch %s).\n", out.PullRequest.Number, out.PullRequest.URL, markdown.Code(out.Branch))
	} else {
		fmt.Fprintf(&b, "Opened [#%d](%s) for @%s: it resumes Flux's image automation on branch %s.\n",
			out.PullRequest.Number, out.PullRequest.URL, markdown.Escape(requester), markdown.Code(out.Branch))
	}
	if len(out.Resumed) > 0 {
		b.WriteString("\n")
		writeHolds(&b, out.Resumed)
		b.WriteString("Once it is merged, Flux updates these lines to the newest image their policies select.\n")
	}
	return b.String()
}

// ResumeRefused is the hold check run after a refused resume. The button
// stays unless there is nothing left to resume.
func ResumeRefused(r *rollback.Refusal) CheckRun {
	actions := []Action{resumeAction}
	if r.Reason == rollback.ReasonNotHeld {
		actions = []Action{}
	}
	return CheckRun{
		Name:       HoldCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      truncate("Resume refused: "+string(r.Reason), maxTitle),
		Summary:    RefusalText(r),
		Actions:    actions,
	}
}

// ResumeRefusedBrokenConfig is the hold check run after a click on Resume
// automation that the broken configuration file refused; its button is
// removed.
func ResumeRefusedBrokenConfig(source string, problem error) CheckRun {
	out := RefusedBrokenConfig(source, problem)
	out.Name, out.Title = HoldCheckRunName, "Resume refused: the configuration is invalid"
	return out
}

// ResumeFailed is the hold check run when GitHub failed during a resume.
func ResumeFailed(err error) CheckRun {
	return CheckRun{
		Name:       HoldCheckRunName,
		Status:     "completed",
		Conclusion: "neutral",
		Title:      "Resume failed: try again",
		Summary:    fmt.Sprintf("GitHub did not complete a request, so the resume was not finished: %s.\n\nClick **Resume automation** again: anything already created is reused.", markdown.Escape(errorText(err))),
		Actions:    []Action{resumeAction},
	}
}

// StatusReply answers /rollback status.
func StatusReply(states []rollback.HoldState, branch string) string {
	var b strings.Builder
	if len(states) == 0 {
		fmt.Fprintf(&b, "No image is held on %s: Flux's image automation updates every image it manages.\n\n", markdown.Code(branch))
	} else {
		fmt.Fprintf(&b, "Flux's image automation is held on %s for:\n\n", markdown.Code(branch))
		writeHolds(&b, states)
		b.WriteString("To resume one, comment `/rollback resume <image>`.\n\n")
	}
	fmt.Fprintf(&b, "Holds are found through the last %d merged pull requests labelled %s, and the files they held (at most %d) as they are on %s.\n",
		rollback.MaxHoldPullRequests, markdown.Code(rollback.HoldLabel), rollback.MaxHoldFiles, markdown.Code(branch))
	return b.String()
}

// ResumeWhichReply answers /rollback resume without an image: what could be
// resumed.
func ResumeWhichReply(states []rollback.HoldState, branch string) string {
	if len(states) == 0 {
		return StatusReply(states, branch)
	}
	return "Name the image to resume, as in `/rollback resume " + markdown.Escape(states[0].Name()) + "`.\n\n" + StatusReply(states, branch)
}
