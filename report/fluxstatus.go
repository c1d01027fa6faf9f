package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fluxrollback/flux-rollback/fluxstatus"
	"github.com/fluxrollback/flux-rollback/internal/markdown"
)

// The Flux section of a release's Rollback check run sits at the top of its
// summary, between two HTML comments GitHub does not show. The opening one
// carries the title the check run had before, so the section can be taken
// off again by whoever reads the check run next: GitHub holds it, the App
// keeps nothing.
const (
	fluxSectionStart = "<!-- flux-rollback:flux-status "
	fluxSectionEnd   = "<!-- /flux-rollback:flux-status -->\n"
)

type fluxSectionHeader struct {
	Title string `json:"title"`
}

// withoutFluxSection is what the check run showed before any Flux section.
func withoutFluxSection(c CheckRun) (title, summary string) {
	rest, ok := strings.CutPrefix(c.Summary, fluxSectionStart)
	if !ok {
		return c.Title, c.Summary
	}
	header, rest, ok := strings.Cut(rest, " -->\n")
	if !ok {
		return c.Title, c.Summary
	}
	_, base, ok := strings.Cut(rest, fluxSectionEnd)
	if !ok {
		return c.Title, c.Summary
	}
	var h fluxSectionHeader
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return c.Title, c.Summary
	}
	return h.Title, strings.TrimPrefix(base, "\n")
}

// HasFluxWarning reports whether a check run shows Flux's failure.
func HasFluxWarning(c CheckRun) bool { return strings.HasPrefix(c.Summary, fluxSectionStart) }

// FluxStatus is a release's Rollback check run, now showing c, updated with
// what Flux's statuses say about the release: while a context is failing
// since the release, the title says so and the summary opens with every
// context's latest state; once none is, both are as they were before. The
// buttons are left as they are. It reports whether anything changed.
// cut says the blame stopped at fluxstatus.MaxCommits.
func FluxStatus(c CheckRun, v fluxstatus.Verdict, cut bool, commitURL func(sha string) string) (CheckRun, bool) {
	title, summary := withoutFluxSection(c)
	out := CheckRun{Name: c.Name, Status: c.Status, Conclusion: c.Conclusion, Title: title, Summary: summary, Actions: c.Actions}
	if failing := v.Failing(); len(failing) > 0 {
		out.Title = fluxTitle(failing)
		out.Summary = fluxSection(title, v, cut, commitURL) + "\n" + summary
	}
	return out, out.Title != c.Title || out.Summary != c.Summary
}

func fluxTitle(failing []fluxstatus.ContextState) string {
	if len(failing) == 1 {
		return truncate(fmt.Sprintf("Flux reports %s failing since this release", failing[0].Latest.Context), maxTitle)
	}
	return fmt.Sprintf("Flux reports %d Kustomizations failing since this release", len(failing))
}

func fluxSection(baseTitle string, v fluxstatus.Verdict, cut bool, commitURL func(string) string) string {
	var b strings.Builder
	header, _ := json.Marshal(fluxSectionHeader{Title: baseTitle}) // escapes < and >, so never "-->"
	b.WriteString(fluxSectionStart + string(header) + " -->\n")
	for _, c := range v.Failing() {
		fmt.Fprintf(&b, "**Flux reports %s failing since this release**: %s, reported %s on %s.\n\n",
			markdown.Code(c.Latest.Context), describe(c.Latest), when(c.Latest.Time), statusLink(c.Latest, commitURL))
	}
	b.WriteString("| Context | State | Description | Reported | On |\n|---|---|---|---|---|\n")
	for _, c := range v.Contexts {
		state := "succeeded"
		switch {
		case c.Failing:
			state = "**failing** since this release"
			if c.FirstFailure.Commit != c.Latest.Commit {
				state += fmt.Sprintf(" (first on %s)", shortLink(c.FirstFailure.Commit, commitURL))
			}
		case c.Latest.Failed():
			state = "failing since a later commit"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", markdown.Code(c.Latest.Context), state,
			markdown.Escape(describe(c.Latest)), when(c.Latest.Time), statusLink(c.Latest, commitURL))
	}
	b.WriteString("\n")
	if cut {
		fmt.Fprintf(&b, "No success was reported in the branch's latest %d commits: releases before them were not looked at.\n\n", fluxstatus.MaxCommits)
	}
	b.WriteString("**Roll back** below opens the pull request that undoes this release, or shows the one already open. A success reported by the same context clears this warning.\n")
	b.WriteString(fluxSectionEnd)
	return b.String()
}

// FluxFailureCause says, for the body of a rollback pull request the App
// opened by itself, which failure made it do so.
func FluxFailureCause(c fluxstatus.ContextState, commitURL func(sha string) string) string {
	return fmt.Sprintf("**Flux reports %s failing since this release**: %s, reported %s on %s. flux-rollback opened this pull request by itself; review it, and merge it to roll back.\n",
		markdown.Code(c.Latest.Context), markdown.Escape(describe(c.Latest)), when(c.Latest.Time), statusLink(c.Latest, commitURL))
}

// describe is a status's description, or its state when it has none.
func describe(s fluxstatus.Status) string {
	if s.Description != "" {
		return s.Description
	}
	return s.State
}

func when(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// statusLink links the status's target URL when it has one (Flux sets none),
// else the page of the commit it was reported on.
func statusLink(s fluxstatus.Status, commitURL func(string) string) string {
	if s.TargetURL != "" && (strings.HasPrefix(s.TargetURL, "https://") || strings.HasPrefix(s.TargetURL, "http://")) {
		return fmt.Sprintf("[%s](%s)", short(s.Commit), linkTarget.Replace(s.TargetURL))
	}
	return shortLink(s.Commit, commitURL)
}

// linkTarget keeps a URL from ending a Markdown link early.
var linkTarget = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E")

func shortLink(sha string, commitURL func(string) string) string {
	return fmt.Sprintf("[%s](%s)", short(sha), commitURL(sha))
}
