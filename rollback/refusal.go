package rollback

import (
	"errors"
	"fmt"

	"github.com/fluxrollback/flux-rollback/revert"
)

// Reason classifies a refusal.
type Reason string

// Reasons a rollback is refused. Each is shown to the user with its detail.
const (
	ReasonPermission      Reason = "no permission"
	ReasonUnknownCommit   Reason = "unknown commit"
	ReasonAmbiguous       Reason = "ambiguous commit"
	ReasonNotOnBranch     Reason = "not on the branch"
	ReasonNotARelease     Reason = "not a release"
	ReasonConflict        Reason = "conflict"
	ReasonNothingToRevert Reason = "nothing to revert"
	ReasonUnsupported     Reason = "unsupported"
	ReasonBranchTaken     Reason = "branch taken"
	ReasonMissingImage    Reason = "image reference missing"
	ReasonUnknownTag      Reason = "unknown tag"
	ReasonNotHeld         Reason = "nothing held"
	ReasonHoldEdited      Reason = "held line edited"
)

// Refusal is an honest "no": the rollback was not made, for a reason the user
// can act on. It is not a failure of flux-rollback or GitHub.
type Refusal struct {
	Reason Reason
	Commit string // full SHA of the commit, when known
	Detail string // one sentence for the user
	// Conflict holds the conflicting files and hunks when Reason is
	// ReasonConflict.
	Conflict *revert.ConflictError
	// Superseded is filled when the commit's images have moved on since: the
	// exact revert no longer applies, but restoring the images does.
	Superseded *Superseded
	// Resumed is the merged pull request that resumed what a resume asked
	// for, when Reason is ReasonNotHeld because it was resumed already.
	Resumed *PullRequest
}

// RoleRefusal refuses user, whose role in the repository is role, what
// needs the minimum role or a higher one.
func RoleRefusal(user, role, minimum string) *Refusal {
	return &Refusal{Reason: ReasonPermission,
		Detail: fmt.Sprintf("@%s has the %q role; rolling back needs %q or higher", user, role, minimum)}
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Reason, r.Detail) }

// refuseRevert turns the revert engine's refusals into a Refusal and passes
// any other error through.
func refuseRevert(commit string, err error) error {
	var conflict *revert.ConflictError
	var unsupported *revert.UnsupportedError
	switch {
	case errors.As(err, &conflict):
		return &Refusal{Reason: ReasonConflict, Commit: commit, Conflict: conflict,
			Detail: fmt.Sprintf("reverting %s conflicts with later changes on the branch", commit[:7])}
	case errors.Is(err, revert.ErrNothingToRevert):
		return &Refusal{Reason: ReasonNothingToRevert, Commit: commit,
			Detail: fmt.Sprintf("the changes of %s are already undone on the branch", commit[:7])}
	case errors.As(err, &unsupported):
		return &Refusal{Reason: ReasonUnsupported, Commit: commit, Detail: unsupported.Error()}
	default:
		return fmt.Errorf("revert %s: %w", commit[:7], err)
	}
}
