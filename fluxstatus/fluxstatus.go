// Package fluxstatus decides which commits of a branch a commit status from
// Flux blames. Flux's notification-controller, given a Provider of type
// github and an Alert on Kustomizations, posts a commit status on every
// commit it applies: failure when the apply or the health checks failed,
// success when they passed, one context per Kustomization and cluster. A
// failure is blamed on the commits after the last one that context reported
// success for, up to the failed commit; a later success clears them.
//
// The package keeps nothing: GitHub holds every status, and each decision is
// made again from them, so concurrent deliveries from several clusters
// converge on the same answer.
package fluxstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxCommits bounds how far back from the branch head a status is looked
// at: the failed commit must be among the branch's latest MaxCommits
// commits, and a failure whose context reported no success within them is
// blamed on those commits only.
const MaxCommits = 20

// ErrOutOfReach is returned by Assess when the reported commit is not among
// the branch's latest MaxCommits commits.
var ErrOutOfReach = errors.New("the commit is not among the branch's latest commits")

// Status is one commit status as GitHub keeps it.
type Status struct {
	Context     string
	State       string // "success", "failure", "error" or "pending"
	Description string
	TargetURL   string
	Time        time.Time
	// Commit is the SHA the status was posted on.
	Commit string
}

// Failed reports a failure: Flux writes "failure"; "error" means the same
// to GitHub.
func (s Status) Failed() bool { return s.State == "failure" || s.State == "error" }

// Succeeded reports a success.
func (s Status) Succeeded() bool { return s.State == "success" }

// Reader reads a branch's history and the statuses of its commits.
type Reader interface {
	// BranchCommits lists the SHAs of branch's history from its head,
	// newest first, at most limit of them.
	BranchCommits(ctx context.Context, branch string, limit int) ([]string, error)
	// LatestStatuses returns the latest status of each context on the
	// commit sha.
	LatestStatuses(ctx context.Context, sha string) ([]Status, error)
}

// ContextState is what one context says about a commit.
type ContextState struct {
	// Latest is the context's newest status on this commit or a later one.
	Latest Status
	// Failing is true when the context reported a failure on this commit or
	// a later one, and no success on any of them: Flux has been failing
	// since this commit, or since before it.
	Failing bool
	// FirstFailure is the failure on the oldest commit, at or after this
	// one, while Failing.
	FirstFailure Status
}

// Verdict is what the accepted contexts say about one commit.
type Verdict struct {
	SHA string
	// Contexts lists every accepted context that reported on this commit or
	// a later one, by name.
	Contexts []ContextState
}

// Failing returns the contexts failing since this commit.
func (v Verdict) Failing() []ContextState {
	var out []ContextState
	for _, c := range v.Contexts {
		if c.Failing {
			out = append(out, c)
		}
	}
	return out
}

// Assessment is the outcome of a status for the branch.
type Assessment struct {
	// Commits are those whose verdict the status may have changed, newest
	// first: from the reported commit back to, and not including, the
	// previous commit the same context reported success for.
	Commits []Verdict
	// Cut is true when no such success was found within MaxCommits: older
	// commits were not looked at.
	Cut bool
	// StatusReads counts the commits whose statuses were read.
	StatusReads int
}

// Assess finds the commits of branch that the status ev, from a context
// accepts takes, may blame or clear, and what every accepted context says
// about each of them. It reads the branch's latest MaxCommits commits in one
// list, then the statuses of one commit at a time from the head, stopping
// at the first commit older than ev's on which ev's context succeeded.
func Assess(ctx context.Context, r Reader, branch string, ev Status, accepts func(context string) bool) (*Assessment, error) {
	commits, err := r.BranchCommits(ctx, branch, MaxCommits)
	if err != nil {
		return nil, fmt.Errorf("list commits of %s: %w", branch, err)
	}
	reported := slices.Index(commits, ev.Commit)
	if reported < 0 {
		return nil, ErrOutOfReach
	}

	// seen[i] holds the accepted statuses of commits[i].
	var seen [][]Status
	stop := len(commits)
	for i, sha := range commits {
		statuses, err := r.LatestStatuses(ctx, sha)
		if err != nil {
			return nil, fmt.Errorf("read statuses of %s: %w", sha, err)
		}
		var kept []Status
		for _, s := range statuses {
			if accepts(s.Context) && (s.Failed() || s.Succeeded()) {
				s.Commit = sha
				kept = append(kept, s)
			}
		}
		seen = append(seen, kept)
		if i > reported && slices.ContainsFunc(kept, func(s Status) bool { return s.Context == ev.Context && s.Succeeded() }) {
			stop = i
			break
		}
	}

	out := &Assessment{StatusReads: len(seen), Cut: stop == len(commits) && len(commits) == MaxCommits}
	for i := reported; i < stop; i++ {
		out.Commits = append(out.Commits, verdict(commits[i], seen[:i+1]))
	}
	return out, nil
}

// verdict is what the statuses of a commit and of the later ones (seen,
// newest first, the commit last) say about the commit.
func verdict(sha string, seen [][]Status) Verdict {
	byContext := map[string]*ContextState{}
	succeeded := map[string]bool{}
	for _, statuses := range seen {
		for _, s := range statuses {
			st, ok := byContext[s.Context]
			if !ok {
				st = &ContextState{Latest: s}
				byContext[s.Context] = st
			}
			if s.Succeeded() {
				succeeded[s.Context] = true
			}
			if s.Failed() {
				st.FirstFailure = s
			}
		}
	}
	v := Verdict{SHA: sha}
	for name, st := range byContext {
		st.Failing = !succeeded[name] && st.FirstFailure.Failed()
		if !st.Failing {
			st.FirstFailure = Status{}
		}
		v.Contexts = append(v.Contexts, *st)
	}
	slices.SortFunc(v.Contexts, func(a, b ContextState) int { return strings.Compare(a.Latest.Context, b.Latest.Context) })
	return v
}
