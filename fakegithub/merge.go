package fakegithub

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v57/github"
)

// Merging pull requests, and listing issues by label and state.

// mergeRecord is how a pull request was merged.
type mergeRecord struct {
	at     time.Time
	by     *user
	commit plumbing.Hash // the commit the merge put on the base branch
}

// updatedAt is the issue's updated_at: its creation, or its closing.
func (is *issue) updatedAt() time.Time {
	if is.closedAt.After(is.createdAt) {
		return is.closedAt
	}
	return is.createdAt
}

// Merge methods GitHub accepts.
const (
	MergeMethodMerge  = "merge"
	MergeMethodSquash = "squash"
)

// MergeError is GitHub's refusal to merge: 405 when the pull request is not
// mergeable, 409 when its head is not the expected SHA, 422 for a bad request.
type MergeError struct {
	Status  int
	Message string
}

func (e *MergeError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// mergeLocked merges pull request number as login would from the web page or
// the API: a merge commit (or a squashed commit) on the base branch, authored
// by login and committed and signed by GitHub, after which the pull request
// is closed and merged. expectSHA, when set, must be the head's SHA.
func (r *Repo) mergeLocked(number int, by *user, method, title, message, expectSHA string) (plumbing.Hash, *MergeError) {
	is, ok := r.issues[number]
	if !ok || is.pr == nil {
		return plumbing.ZeroHash, &MergeError{http.StatusNotFound, "Not Found"}
	}
	if method == "" {
		method = MergeMethodMerge
	}
	if method != MergeMethodMerge && method != MergeMethodSquash {
		return plumbing.ZeroHash, &MergeError{http.StatusUnprocessableEntity, "Invalid request.\n\n" + strconv.Quote(method) + " is not a member of [\"merge\", \"squash\", \"rebase\"]."}
	}
	if is.state != "open" || is.pr.merged != nil {
		return plumbing.ZeroHash, &MergeError{http.StatusMethodNotAllowed, "Pull Request is not mergeable"}
	}
	head, ok := r.refs["refs/heads/"+is.pr.head]
	if !ok {
		return plumbing.ZeroHash, &MergeError{http.StatusMethodNotAllowed, "Pull Request is not mergeable"}
	}
	if expectSHA != "" && expectSHA != head.String() {
		return plumbing.ZeroHash, &MergeError{http.StatusConflict, "Head branch was modified. Review and try the merge again."}
	}
	baseRef := "refs/heads/" + is.pr.base
	base, ok := r.refs[baseRef]
	if !ok {
		return plumbing.ZeroHash, &MergeError{http.StatusMethodNotAllowed, "Base branch was modified. Review and try the merge again."}
	}
	tree, ok := r.mergeTreesLocked(base, head)
	if !ok {
		return plumbing.ZeroHash, &MergeError{http.StatusMethodNotAllowed, "Pull Request is not mergeable"}
	}
	n := strconv.Itoa(number)
	if method == MergeMethodMerge {
		if title == "" {
			title = "Merge pull request #" + n + " from " + r.owner.login + "/" + is.pr.head
		}
		if message == "" {
			message = is.title
		}
	} else {
		if title == "" {
			title = is.title + " (#" + n + ")"
		}
		if message == "" {
			var lines []string
			_ = r.obj.walkCommits([]plumbing.Hash{head}, []plumbing.Hash{base}, func(c *object.Commit) bool {
				lines = append(lines, "* "+strings.TrimRight(c.Message, "\n"))
				return true
			})
			for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
				lines[i], lines[j] = lines[j], lines[i]
			}
			message = strings.Join(lines, "\n\n")
		}
	}
	full := title
	if message != "" {
		full += "\n\n" + message
	}
	parents := []string{base.String()}
	if method == MergeMethodMerge {
		parents = append(parents, head.String())
	}
	now := r.gh.now()
	author := r.signatureLocked(Person{Login: by.login, Date: now})
	h, err := r.obj.writeCommit(CommitObject{
		Tree: tree.String(), Parents: parents, Author: author,
		Committer: Signature{Name: "GitHub", Email: "noreply@github.com", When: now}, Message: full,
	})
	if err != nil {
		return plumbing.ZeroHash, &MergeError{http.StatusInternalServerError, err.Error()}
	}
	r.markSigned(h)
	r.refs[baseRef] = h
	is.state = "closed"
	is.closedAt = now
	is.pr.headSHA = head
	is.pr.merged = &mergeRecord{at: now, by: by, commit: h}
	return h, nil
}

// mergeTreesLocked is the tree of merging head into base: the head's tree
// when base is an ancestor of head, else a merge path by path where only
// one side changed each path. A path both sides changed differently is a
// conflict (GitHub would merge its lines; the fake refuses instead, which
// is what GitHub does when those lines touch).
func (r *Repo) mergeTreesLocked(base, head plumbing.Hash) (plumbing.Hash, bool) {
	headCommit, err := r.obj.commit(head)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	if r.obj.isAncestor(base, head) {
		return headCommit.TreeHash, true
	}
	baseCommit, err := r.obj.commit(base)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	var ancestorTree plumbing.Hash
	if mb := r.obj.mergeBase(base, head); !mb.IsZero() {
		c, err := r.obj.commit(mb)
		if err != nil {
			return plumbing.ZeroHash, false
		}
		ancestorTree = c.TreeHash
	}
	flat := func(h plumbing.Hash) map[string]flatEntry {
		if h.IsZero() {
			return map[string]flatEntry{}
		}
		m, err := r.obj.flatten(h)
		if err != nil {
			return nil
		}
		return m
	}
	anc, ours, theirs := flat(ancestorTree), flat(baseCommit.TreeHash), flat(headCommit.TreeHash)
	if anc == nil || ours == nil || theirs == nil {
		return plumbing.ZeroHash, false
	}
	paths := map[string]bool{}
	for _, m := range []map[string]flatEntry{anc, ours, theirs} {
		for p := range m {
			paths[p] = true
		}
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var changes []treeChange
	for _, p := range sorted {
		a, inA := anc[p]
		o, inO := ours[p]
		t, inT := theirs[p]
		switch {
		case inT == inA && t == a:
			// Only the base changed it (or nobody did): keep the base's.
		case inO == inA && o == a:
			if inT {
				changes = append(changes, treeChange{path: p, mode: t.mode, hash: t.hash})
			} else {
				changes = append(changes, treeChange{path: p, delete: true})
			}
		case inO == inT && o == t:
			// Both sides made the same change.
		default:
			return plumbing.ZeroHash, false
		}
	}
	tree, err := r.obj.applyChanges(baseCommit.TreeHash, changes)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return tree, true
}

// MergePullRequest merges pull request number as login does with the
// "Merge pull request" button (method "" is a merge commit, or
// MergeMethodSquash), and delivers the push of the base branch that
// GitHub sends. It returns the commit the merge made.
func (r *Repo) MergePullRequest(ctx context.Context, number int, login, method string) (string, *Delivery, error) {
	r.gh.mu.Lock()
	h, merr := r.mergeLocked(number, r.gh.userLocked(login), method, "", "", "")
	var base string
	if merr == nil {
		base = r.issues[number].pr.base
	}
	r.gh.mu.Unlock()
	if merr != nil {
		return "", nil, fmt.Errorf("merge #%d: %w", number, merr)
	}
	d, err := r.Push(ctx, base)
	return h.String(), d, err
}

func (g *GitHub) mergePull(c *call) {
	is := c.issueParam("pull_number", true)
	if is == nil {
		return
	}
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if len(c.body) > 0 && !c.decode(&req) {
		return
	}
	by := g.botLocked()
	h, merr := c.repo.mergeLocked(is.number, by, req.MergeMethod, req.CommitTitle, req.CommitMessage, req.SHA)
	if merr != nil {
		c.fail(merr.Status, merr.Message)
		return
	}
	c.json(http.StatusOK, &github.PullRequestMergeResult{
		SHA: ptr(h.String()), Merged: ptr(true), Message: ptr("Pull Request successfully merged"),
	})
}

// listIssues lists the repository's issues and pull requests, as GET
// /repos/{owner}/{repo}/issues does: filtered by state (default open) and
// by labels (a comma-separated list, all of which an issue must carry),
// sorted by created or updated (default created), newest first unless
// direction=asc. Pull requests carry pull_request.merged_at.
func (g *GitHub) listIssues(c *call) {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var labels []string
	for _, l := range strings.Split(q.Get("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	var matches []*issue
	for _, is := range c.repo.sortedIssuesLocked() {
		if state != "all" && is.state != state {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && containsFold(is.labels, l)
		}
		if all {
			matches = append(matches, is)
		}
	}
	key := func(is *issue) time.Time { return is.createdAt }
	if q.Get("sort") == "updated" {
		key = (*issue).updatedAt
	}
	asc := q.Get("direction") == "asc"
	sort.SliceStable(matches, func(i, j int) bool {
		a, b := key(matches[i]), key(matches[j])
		if a.Equal(b) {
			if asc {
				return matches[i].number < matches[j].number
			}
			return matches[i].number > matches[j].number
		}
		return a.Before(b) == asc
	})
	out := []map[string]any{}
	for _, is := range paginate(c, matches) {
		m := toMap(c.issueJSON(is))
		if is.pr != nil {
			links, _ := m["pull_request"].(map[string]any)
			if links != nil {
				links["merged_at"] = nil
				if is.pr.merged != nil {
					links["merged_at"] = is.pr.merged.at.Format(time.RFC3339)
				}
			}
		}
		out = append(out, m)
	}
	c.json(http.StatusOK, out)
}
