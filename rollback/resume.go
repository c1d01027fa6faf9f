package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/revert"
)

// HoldSearch finds the merged pull requests that carried holds.
type HoldSearch interface {
	// MergedHolds lists the merged pull requests labelled HoldLabel, the
	// most recently updated first, at most limit of them.
	MergedHolds(ctx context.Context, limit int) ([]HoldPullRequest, error)
}

// HoldPullRequest is a merged pull request that carried a hold.
type HoldPullRequest struct {
	Number   int
	URL      string
	Body     string
	MergedAt string // RFC 3339
}

// Bounds of the search for holds on a branch: the most recently updated
// merged pull requests labelled HoldLabel (one page of GitHub's issue
// list), and the files they name, each read once on the head.
const (
	MaxHoldPullRequests = 100
	MaxHoldFiles        = 50
)

// HoldState is a hold as it stands on the head of a branch.
type HoldState struct {
	File  string
	Image string // "" when unknown
	// Held is the held marker as the head has it: its line and value now.
	hold.Held
	// HeldValue is the line's value when it was held; "" when unknown.
	HeldValue string
	// PullRequest brought the hold, when the search found it.
	PullRequest *HoldPullRequest
	// Requester asked for the rollback that holds it, when known.
	Requester string
	// Workload is set for a Flux v1 lock instead of a held marker: Held then
	// carries only its Line and Release.
	Workload *hold.Workload
}

// workloadID names a Flux v1 workload as fluxctl does: "apps:deployment/web".
func workloadID(w hold.Workload) string {
	return ManualLock{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}.Workload()
}

// Edited reports whether a person changed the held line's value since.
func (h HoldState) Edited() bool { return h.HeldValue != "" && h.HeldValue != h.Value }

// Version is the held value as people name it: the tag (or digest) of a
// whole reference, the value itself otherwise.
func (h HoldState) Version() string {
	if h.Workload != nil {
		return "its version, locked"
	}
	v := h.Value
	if h.Field != "" {
		return v
	}
	if i := strings.LastIndex(v, "@"); i >= 0 {
		return v[i+1:]
	}
	if i := strings.LastIndex(v, ":"); i > strings.LastIndex(v, "/") {
		return v[i+1:]
	}
	return v
}

// Setter is the held marker's setter ("flux-system:api:tag"), or the
// locked workload ("apps:deployment/web").
func (h HoldState) Setter() string {
	if h.Workload != nil {
		return workloadID(*h.Workload)
	}
	return setterName(h.Policy, h.Field)
}

// Name names the held image for people: its short name, else its policy;
// a locked workload by its name.
func (h HoldState) Name() string {
	if h.Workload != nil {
		return h.Workload.Name
	}
	if h.Image != "" {
		return ShortImage(h.Image)
	}
	return h.Policy
}

// holdRecord is what a hold pull request's body records of its hold, in an
// HTML comment: which files and lines it held, and for whom. The file on
// the branch is what counts; the record says where to look.
type holdRecord struct {
	Release   string           `json:"release"`
	Requester string           `json:"requester"`
	Lines     []holdRecordLine `json:"lines"`
	Locks     []holdRecordLock `json:"locks,omitempty"`
}

// holdRecordLock is a Flux v1 workload a hold locked.
type holdRecordLock struct {
	File     string `json:"file"`
	Workload string `json:"workload"` // "namespace:kind/name"
}

type holdRecordLine struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Policy string `json:"policy"`
	Field  string `json:"field,omitempty"`
	Image  string `json:"image,omitempty"`
	Value  string `json:"value"`
}

const holdRecordPrefix = "<!-- flux-rollback-hold: "

var holdRecordPattern = regexp.MustCompile(`<!-- flux-rollback-hold: (\{.*?\}) -->`)

// record is the hold record of a hold for a pull request's body.
func (h *Hold) record(release, requester string) string {
	r := holdRecord{Release: release, Requester: requester}
	for _, l := range h.Held {
		r.Lines = append(r.Lines, holdRecordLine{File: l.File, Line: l.Line, Policy: l.Policy, Field: l.Field, Image: l.Image, Value: l.Value})
	}
	for _, w := range h.Locked {
		r.Locks = append(r.Locks, holdRecordLock{File: w.File, Workload: workloadID(w.Workload)})
	}
	b, _ := json.Marshal(r) // escapes < and >, so the comment cannot be closed early
	return holdRecordPrefix + string(b) + " -->"
}

// parseHoldRecord reads the hold record of a pull request's body.
func parseHoldRecord(body string) (holdRecord, bool) {
	m := holdRecordPattern.FindStringSubmatch(body)
	if m == nil {
		return holdRecord{}, false
	}
	var r holdRecord
	if err := json.Unmarshal([]byte(m[1]), &r); err != nil {
		return holdRecord{}, false
	}
	return r, true
}

// expectedHold is a hold some commit or pull request brought to a file.
type expectedHold struct {
	file, policy, field, release, value, image, requester string
	workload                                              string // a Flux v1 lock: "namespace:kind/name"; "*" any
	pr                                                    *HoldPullRequest
}

// matches reports whether st is the hold e expects in file.
func (e expectedHold) matches(file string, st HoldState) bool {
	if e.file != file || e.release != "" && e.release != st.Release {
		return false
	}
	if st.Workload != nil {
		return e.workload == "*" || e.workload == workloadID(*st.Workload)
	}
	return e.workload == "" && e.policy == st.Policy && e.field == st.Field
}

// lockMessage matches the annotation of a Flux v1 lock flux-rollback made
// (hold.LockV1's message), with the release it names.
var lockMessage = regexp.MustCompile(`^\s*(?:fluxcd\.io|flux\.weave\.works)/locked_msg:\s*["']?flux-rollback: rolled back ([0-9a-f]+)`)

// heldByCommit lists the held markers a commit's patches add, and the files
// whose held lines it changes or removes (a person editing a held line).
func heldByCommit(c *Commit) (added []expectedHold, touched []string) {
	for _, f := range c.Files {
		if !release.MightHoldImages(f.Path) || f.Patch == "" {
			continue
		}
		lines, err := release.ChangedLines(f)
		if err != nil {
			continue
		}
		// A held line the commit replaced was held at its old value.
		was := map[string]string{}
		for _, l := range lines {
			for _, h := range hold.FindHeld([]byte(l.Text + "\n")) {
				if !l.Added {
					was[h.Policy+" "+h.Field+" "+h.Release] = h.Value
				}
			}
		}
		for _, l := range lines {
			if m := lockMessage.FindStringSubmatch(l.Text); m != nil {
				if l.Added {
					added = append(added, expectedHold{file: f.Path, release: m[1], workload: "*"})
				}
				if !slices.Contains(touched, f.Path) {
					touched = append(touched, f.Path)
				}
			}
			for _, h := range hold.FindHeld([]byte(l.Text + "\n")) {
				if l.Added {
					value := h.Value
					if old, ok := was[h.Policy+" "+h.Field+" "+h.Release]; ok {
						value = old
					}
					added = append(added, expectedHold{file: f.Path, policy: h.Policy, field: h.Field, release: h.Release, value: value})
				}
				if !slices.Contains(touched, f.Path) {
					touched = append(touched, f.Path)
				}
			}
		}
	}
	return added, touched
}

// readFiles reads files at commit, concurrently; a file that is not there
// is left out.
func (s *Service) readFiles(ctx context.Context, commit string, files []string) (map[string][]byte, map[string]string, error) {
	contents := make([]([]byte), len(files))
	modes := make([]string, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(holdConcurrency)
	for i, file := range files {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "read "+file, &err)
			contents[i], modes[i], err = readRegularFile(gctx, s.Repo, commit, file)
			if err != nil {
				return fmt.Errorf("read %s: %w", file, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	out, outModes := map[string][]byte{}, map[string]string{}
	for i, f := range files {
		if modes[i] != "" {
			out[f], outModes[f] = contents[i], modes[i]
		}
	}
	return out, outModes, nil
}

// holdStates lists the holds in contents, matched with what was expected
// of them: only policies in expected files count when match is set.
func holdStates(contents map[string][]byte, files []string, expected []expectedHold, onlyExpected bool) []HoldState {
	var out []HoldState
	for _, file := range files {
		content, ok := contents[file]
		if !ok {
			continue
		}
		var all []HoldState
		for _, h := range hold.FindHeld(content) {
			all = append(all, HoldState{File: file, Held: h})
		}
		for _, w := range hold.LockedV1(content) {
			w := w
			all = append(all, HoldState{File: file, Held: hold.Held{Line: w.Line, Release: w.Release}, Workload: &w, Requester: w.User})
		}
		for _, st := range all {
			found := false
			for _, e := range expected {
				if e.matches(file, st) {
					st.HeldValue, st.Image, st.PullRequest = e.value, e.image, e.pr
					if e.requester != "" {
						st.Requester = e.requester
					}
					found = true
					break
				}
			}
			if onlyExpected && !found {
				continue
			}
			if st.Image == "" && st.Workload == nil {
				for _, e := range expected {
					if e.policy == st.Policy && e.image != "" {
						st.Image = e.image
					}
				}
			}
			out = append(out, st)
		}
	}
	return out
}

// HoldsOf lists the holds a commit brought, or whose lines it changed, as
// they stand at at (a commit or branch): the holds of its files that it
// added or touched. None when the commit touched no held line.
func (s *Service) HoldsOf(ctx context.Context, commit *Commit, at string) ([]HoldState, error) {
	added, touched := heldByCommit(commit)
	if len(touched) == 0 {
		return nil, nil
	}
	contents, _, err := s.readFiles(ctx, at, touched)
	if err != nil {
		return nil, err
	}
	states := holdStates(contents, touched, added, false)
	if len(states) == 0 {
		return nil, nil
	}
	if err := s.withRecords(ctx, states); err != nil {
		return nil, err
	}
	return states, nil
}

// withRecords adds to states what the hold pull requests recorded of them:
// the pull request, who asked, the image, and the value when held.
func (s *Service) withRecords(ctx context.Context, states []HoldState) error {
	recorded, _, err := s.searchHolds(ctx)
	if err != nil {
		return err
	}
	for i := range states {
		st := &states[i]
		for _, r := range recorded {
			if r.matches(st.File, *st) {
				st.PullRequest, st.Requester = r.pr, r.requester
				if r.image != "" {
					st.Image = r.image
				}
				if r.value != "" {
					st.HeldValue = r.value // the value when held, before any edit
				}
				break
			}
		}
	}
	return nil
}

// Held lists the images held on the head of branch: the holds in the files
// that the most recent merged hold pull requests name (see
// MaxHoldPullRequests and MaxHoldFiles), as the head has them.
func (s *Service) Held(ctx context.Context, branch string) ([]HoldState, error) {
	head, err := s.Repo.Head(ctx, branch, branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s: %w", branch, err)
	}
	expected, files, err := s.searchHolds(ctx)
	if err != nil {
		return nil, err
	}
	contents, _, err := s.readFiles(ctx, head.SHA, files)
	if err != nil {
		return nil, err
	}
	return holdStates(contents, files, expected, false), nil
}

// searchHolds reads the hold records of the merged hold pull requests.
func (s *Service) searchHolds(ctx context.Context) ([]expectedHold, []string, error) {
	if s.Holds == nil {
		return nil, nil, nil
	}
	prs, err := s.Holds.MergedHolds(ctx, MaxHoldPullRequests)
	if err != nil {
		return nil, nil, fmt.Errorf("find the pull requests that hold images: %w", err)
	}
	var expected []expectedHold
	var files []string
	for i := range prs {
		r, ok := parseHoldRecord(prs[i].Body)
		if !ok {
			continue
		}
		for _, l := range r.Lines {
			expected = append(expected, expectedHold{file: l.File, policy: l.Policy, field: l.Field, release: r.Release, value: l.Value,
				image: l.Image, requester: r.Requester, pr: &prs[i]})
			if !slices.Contains(files, l.File) && len(files) < MaxHoldFiles {
				files = append(files, l.File)
			}
		}
		for _, l := range r.Locks {
			expected = append(expected, expectedHold{file: l.File, release: r.Release, workload: l.Workload, requester: r.Requester, pr: &prs[i]})
			if !slices.Contains(files, l.File) && len(files) < MaxHoldFiles {
				files = append(files, l.File)
			}
		}
	}
	return expected, files, nil
}

// ResumeRequest asks to resume Flux's automation of held images.
type ResumeRequest struct {
	Branch    string
	Requester string
	Config    repoconfig.Config
	// Commit, when set, resumes the holds that commit brought (the Resume
	// automation button of its check run); else Image or Policy names
	// what to resume among the holds found on the branch.
	Commit        *Commit
	Image, Policy string
}

// ResumeOutcome is a resume that has a pull request.
type ResumeOutcome struct {
	Resumed     []HoldState
	Branch      string
	PullRequest *PullRequest
	Existing    bool
}

// Resume opens a pull request that puts back the original markers of the
// held lines asked for, byte for byte, and changes nothing else.
func (s *Service) Resume(ctx context.Context, req ResumeRequest) (*ResumeOutcome, error) {
	base := Request{Requester: req.Requester, Branch: req.Branch, Config: req.Config}
	if err := s.authorize(ctx, base); err != nil {
		return nil, err
	}
	head, err := s.Repo.Head(ctx, req.Branch, req.Branch)
	if err != nil {
		return nil, fmt.Errorf("read branch %s: %w", req.Branch, err)
	}
	var expected []expectedHold
	var files []string
	what := ""
	if req.Commit != nil {
		expected, _ = heldByCommit(req.Commit)
		for _, e := range expected {
			if !slices.Contains(files, e.file) {
				files = append(files, e.file)
			}
		}
		what = "the holds of " + req.Commit.SHA[:7]
	} else {
		if expected, files, err = s.searchHolds(ctx); err != nil {
			return nil, err
		}
		what = req.Image + req.Policy
	}
	contents, modes, err := s.readFiles(ctx, head.SHA, files)
	if err != nil {
		return nil, err
	}
	states := holdStates(contents, files, expected, req.Commit != nil)
	if req.Commit != nil && len(states) > 0 {
		if err := s.withRecords(ctx, states); err != nil {
			return nil, err
		}
	}
	var chosen []HoldState
	for _, st := range states {
		byWorkload := st.Workload != nil && req.Image != "" && (st.Workload.Name == req.Image || workloadID(*st.Workload) == req.Image)
		if req.Commit != nil || byWorkload || st.Workload == nil && (st.Policy == req.Policy || req.Image != "" && (sameImage(st.Image, req.Image) || st.Policy == req.Image)) {
			chosen = append(chosen, st)
		}
	}
	// Where nothing asked for is held any more, a resume of it may still be
	// open: only the holds recorded for what was asked name its branch.
	var asked []expectedHold
	for _, e := range expected {
		if req.Commit != nil || e.policy != "" && (e.policy == req.Policy || e.policy == req.Image) ||
			req.Image != "" && (e.image != "" && sameImage(e.image, req.Image) || strings.HasSuffix(e.workload, "/"+req.Image) || e.workload == req.Image) {
			asked = append(asked, e)
		}
	}
	branch, marker := resumeBranch(req.Config.BranchPrefix, chosen, asked)
	if len(chosen) == 0 {
		if branch != "" {
			if pr, err := s.Pulls.FindOpen(ctx, branch, req.Branch); err != nil || pr != nil {
				if err != nil {
					return nil, fmt.Errorf("find pull request for %s: %w", branch, err)
				}
				return &ResumeOutcome{Branch: branch, PullRequest: pr, Existing: true}, nil
			}
			if err := s.resumedBefore(ctx, req, what, branch); err != nil {
				return nil, err
			}
		}
		return nil, notHeld(req, what, states, expected)
	}
	for _, st := range chosen {
		if st.Edited() {
			return nil, &Refusal{Reason: ReasonHoldEdited,
				Detail: fmt.Sprintf("%s:%d was changed since %s held it: it holds %s now, not %s; resuming would hand that line back to Flux. Put the marker back by hand if that is what you want",
					st.File, st.Line, st.Name(), st.Value, st.HeldValue)}
		}
	}

	var changes []revert.Change
	for _, file := range files {
		var policies, releases []string
		for _, st := range chosen {
			switch {
			case st.File != file:
			case st.Workload != nil:
				if !slices.Contains(releases, st.Release) {
					releases = append(releases, st.Release)
				}
			case !slices.Contains(policies, st.Policy):
				policies = append(policies, st.Policy)
			}
		}
		resumed := contents[file]
		if len(policies) > 0 {
			resumed, _ = hold.Resume(resumed, policies)
		}
		if len(releases) > 0 {
			resumed, _ = hold.UnlockV1(resumed, releases)
		}
		if len(policies) > 0 || len(releases) > 0 {
			changes = append(changes, revert.Change{Path: file, Mode: modes[file], Content: resumed})
		}
	}
	pr := resumePullRequest(chosen, req, branch)
	opened, existing, err := s.openBranch(ctx, base, head, branch, marker, resumeMessage(chosen, marker, req.Requester), changes, pr)
	if err != nil {
		return nil, err
	}
	return &ResumeOutcome{Resumed: chosen, Branch: branch, PullRequest: opened, Existing: existing}, nil
}

// resumeBranch names the branch of a resume after the release the holds
// rolled back ("rollback-26a4b87-resume"), and the line that identifies its
// commit.
func resumeBranch(prefix string, chosen []HoldState, expected []expectedHold) (string, string) {
	var releases, policies []string
	for _, st := range chosen {
		releases, policies = append(releases, st.Release), append(policies, st.Setter())
	}
	if len(releases) == 0 {
		for _, e := range expected {
			if e.release != "" {
				releases, policies = append(releases, e.release), append(policies, setterName(e.policy, e.field))
			}
		}
	}
	if len(releases) == 0 {
		return "", ""
	}
	slices.Sort(releases)
	releases = slices.Compact(releases)
	slices.Sort(policies)
	policies = slices.Compact(policies)
	return prefix + branchSafe(releases[0]) + "-resume", resumeMarker(policies, releases)
}

// resumedBefore refuses a resume whose pull request, from branch, was
// merged already; it returns nil when none was (or when the pull requests
// port cannot tell). It costs one request, on this refusal only.
func (s *Service) resumedBefore(ctx context.Context, req ResumeRequest, what, branch string) error {
	past, ok := s.Pulls.(PastPullRequests)
	if !ok {
		return nil
	}
	pr, err := past.AnyFrom(ctx, branch, req.Branch)
	if err != nil {
		return fmt.Errorf("find the pull requests from %s: %w", branch, err)
	}
	if pr == nil || !pr.Merged {
		return nil
	}
	subject := what + " was"
	if req.Commit != nil {
		subject = what + " were"
	}
	return &Refusal{Reason: ReasonNotHeld, Resumed: pr,
		Detail: fmt.Sprintf("%s resumed already: its resume pull request was merged, and nothing holds it on %s any more", subject, req.Branch)}
}

// notHeld explains why there is nothing to resume.
func notHeld(req ResumeRequest, what string, states []HoldState, expected []expectedHold) error {
	switch {
	case req.Commit != nil && len(expected) == 0:
		return &Refusal{Reason: ReasonNotHeld, Detail: fmt.Sprintf("commit %s holds no image", req.Commit.SHA[:7])}
	case req.Commit != nil:
		var where []string
		for _, e := range expected {
			where = append(where, fmt.Sprintf("%s (%s)", e.file, e.policy))
		}
		return &Refusal{Reason: ReasonNotHeld,
			Detail: fmt.Sprintf("the holds of %s are no longer on %s: %s no longer hold them (resumed, or the markers were changed by hand)",
				req.Commit.SHA[:7], req.Branch, strings.Join(where, ", "))}
	case len(states) == 0:
		return &Refusal{Reason: ReasonNotHeld, Detail: fmt.Sprintf("no image is held on %s", req.Branch)}
	}
	var held []string
	for _, st := range states {
		if n := st.Name(); !slices.Contains(held, n) {
			held = append(held, n)
		}
	}
	return &Refusal{Reason: ReasonNotHeld,
		Detail: fmt.Sprintf("%s is not held on %s; held: %s", what, req.Branch, strings.Join(held, ", "))}
}

// openBranch commits changes on head, creates branch and opens pr,
// reusing what an earlier request created.
func (s *Service) openBranch(ctx context.Context, req Request, head *Head, branch, marker, message string,
	changes []revert.Change, pr NewPullRequest) (*PullRequest, bool, error) {
	tree, err := s.Writer.CreateTree(ctx, head.Tree, changes)
	if err != nil {
		return nil, false, fmt.Errorf("create tree: %w", err)
	}
	sha, err := s.Writer.CreateCommit(ctx, message, tree, []string{head.SHA})
	if err != nil {
		return nil, false, fmt.Errorf("create commit: %w", err)
	}
	if err := s.claimBranch(ctx, branch, sha, marker, "resume", ""); err != nil {
		return nil, false, err
	}
	opened, existing, err := s.openPullRequest(ctx, pr)
	switch {
	case errors.Is(err, ErrNoDifference):
		return nil, false, &Refusal{Reason: ReasonNotHeld,
			Detail: fmt.Sprintf("branch %s holds nothing that %s does not: the resume was merged already", branch, req.Branch)}
	case err != nil:
		return nil, false, err
	case existing:
		return opened, true, nil
	}
	p := req.Config.PullRequest
	if err := s.Pulls.Decorate(ctx, opened.Number, p.Labels, p.Reviewers, p.TeamReviewers); err != nil {
		return nil, false, fmt.Errorf("label pull request #%d: %w", opened.Number, err)
	}
	return opened, false, nil
}
