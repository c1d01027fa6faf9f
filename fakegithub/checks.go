package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v57/github"
)

// Check suites and check runs. There is one app per fake, so a check suite
// is one per head SHA.

// GitHub's limits on check runs.
const (
	maxActions           = 3
	maxActionLabel       = 20
	maxActionIdentifier  = 20
	maxActionDescription = 40
	maxOutputText        = 65535
	maxAnnotations       = 50
)

var (
	checkStatuses    = map[string]bool{"queued": true, "in_progress": true, "completed": true, "waiting": true, "requested": true, "pending": true}
	checkConclusions = map[string]bool{
		"action_required": true, "cancelled": true, "failure": true, "neutral": true, "success": true,
		"skipped": true, "stale": true, "timed_out": true,
	}
)

type checkSuite struct {
	id         int64
	headSHA    plumbing.Hash
	headBranch string
	createdAt  time.Time
}

type checkRun struct {
	id          int64
	suite       *checkSuite
	name        string
	headSHA     plumbing.Hash
	status      string
	conclusion  string
	externalID  string
	detailsURL  string
	startedAt   time.Time
	completedAt time.Time
	output      CheckRunOutput
	annotations int
	actions     []CheckRunAction
}

// CheckRunOutput is the output of a check run.
type CheckRunOutput struct {
	Title   string
	Summary string
	Text    string
}

// CheckRunAction is a button of a check run.
type CheckRunAction struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID          int64
	SuiteID     int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	Output      CheckRunOutput
	Actions     []CheckRunAction
	Annotations int // how many annotations were sent
}

func (run *checkRun) snapshot() CheckRun {
	return CheckRun{
		ID: run.id, SuiteID: run.suite.id, Name: run.name, HeadSHA: run.headSHA.String(), Status: run.status,
		Conclusion: run.conclusion, ExternalID: run.externalID, DetailsURL: run.detailsURL, Output: run.output,
		Actions: append([]CheckRunAction(nil), run.actions...), Annotations: run.annotations,
	}
}

// CheckRuns returns the check runs on a commit (every commit when sha is
// ""), oldest first.
func (r *Repo) CheckRuns(sha string) []CheckRun {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []CheckRun
	for _, run := range r.sortedRunsLocked() {
		if sha == "" || run.headSHA.String() == sha {
			out = append(out, run.snapshot())
		}
	}
	return out
}

// CheckRun returns one check run.
func (r *Repo) CheckRun(id int64) (CheckRun, bool) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	run, ok := r.checkRuns[id]
	if !ok {
		return CheckRun{}, false
	}
	return run.snapshot(), true
}

func (r *Repo) sortedRunsLocked() []*checkRun {
	out := make([]*checkRun, 0, len(r.checkRuns))
	for _, run := range r.checkRuns {
		out = append(out, run)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// suiteLocked returns the app's check suite for sha, creating it.
func (r *Repo) suiteLocked(sha plumbing.Hash) *checkSuite {
	if s, ok := r.suites[sha]; ok {
		return s
	}
	s := &checkSuite{id: r.gh.newID(), headSHA: sha, headBranch: r.branchOfLocked(sha), createdAt: r.gh.now()}
	r.suites[sha] = s
	return s
}

// branchOfLocked names a branch whose tip is sha (the default branch first),
// as GitHub fills a check suite's head_branch.
func (r *Repo) branchOfLocked(sha plumbing.Hash) string {
	if r.refs["refs/heads/"+r.defaultBranch] == sha {
		return r.defaultBranch
	}
	var names []string
	for name, h := range r.refs {
		if h == sha && len(name) > len("refs/heads/") && name[:len("refs/heads/")] == "refs/heads/" {
			names = append(names, name[len("refs/heads/"):])
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// suiteStatusLocked derives a suite's status and conclusion from its runs.
func (r *Repo) suiteStatusLocked(s *checkSuite) (status, conclusion string) {
	status, conclusion = "completed", ""
	hasRuns := false
	rank := map[string]int{"success": 1, "skipped": 1, "neutral": 2, "stale": 3, "cancelled": 4, "timed_out": 5, "action_required": 6, "failure": 7}
	for _, run := range r.checkRuns {
		if run.suite != s {
			continue
		}
		hasRuns = true
		if run.status != "completed" {
			status = "in_progress"
		}
		if rank[run.conclusion] > rank[conclusion] {
			conclusion = run.conclusion
		}
	}
	if !hasRuns {
		return "queued", ""
	}
	if status != "completed" {
		conclusion = ""
	}
	return status, conclusion
}

// checkRunRequest is the body of POST and PATCH check-runs. Pointers tell
// absent fields apart.
type checkRunRequest struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title       *string           `json:"title"`
		Summary     *string           `json:"summary"`
		Text        *string           `json:"text"`
		Annotations []json.RawMessage `json:"annotations"`
	} `json:"output"`
	Actions *[]CheckRunAction `json:"actions"`
}

// invalidRequest is GitHub's wording for schema violations of check runs.
func invalidRequest(detail string) string { return "Invalid request.\n\n" + detail }

// validate checks a check run request against GitHub's limits and returns
// the message of the 422, or "".
func (req *checkRunRequest) validate(create bool) string {
	if create {
		if req.Name == nil || *req.Name == "" {
			return invalidRequest(`"name" wasn't supplied.`)
		}
		if req.HeadSHA == nil || *req.HeadSHA == "" {
			return invalidRequest(`"head_sha" wasn't supplied.`)
		}
	}
	if req.Status != nil && !checkStatuses[*req.Status] {
		return invalidRequest(fmt.Sprintf("%q is not a valid status.", *req.Status))
	}
	if req.Conclusion != nil && !checkConclusions[*req.Conclusion] {
		return invalidRequest(fmt.Sprintf("%q is not a valid conclusion.", *req.Conclusion))
	}
	if req.Status != nil && *req.Status == "completed" && req.Conclusion == nil {
		return invalidRequest(`"conclusion" wasn't supplied.`)
	}
	for _, t := range []*string{req.StartedAt, req.CompletedAt} {
		if t != nil {
			if _, err := time.Parse(time.RFC3339, *t); err != nil {
				return invalidRequest(fmt.Sprintf("%q is not a valid date-time.", *t))
			}
		}
	}
	if o := req.Output; o != nil {
		switch {
		case o.Title == nil:
			return invalidRequest(`"title" wasn't supplied.`)
		case o.Summary == nil:
			return invalidRequest(`"summary" wasn't supplied.`)
		case len([]rune(*o.Summary)) > maxOutputText:
			return invalidRequest(fmt.Sprintf("Only %d characters are allowed for the output summary.", maxOutputText))
		case o.Text != nil && len([]rune(*o.Text)) > maxOutputText:
			return invalidRequest(fmt.Sprintf("Only %d characters are allowed for the output text.", maxOutputText))
		case len(o.Annotations) > maxAnnotations:
			return invalidRequest(fmt.Sprintf("Only %d annotations are allowed per request.", maxAnnotations))
		}
	}
	if req.Actions != nil {
		actions := *req.Actions
		if len(actions) > maxActions {
			return invalidRequest(fmt.Sprintf("Only %d actions are allowed per check run.", maxActions))
		}
		for _, a := range actions {
			switch {
			case a.Label == "" || a.Identifier == "" || a.Description == "":
				return invalidRequest(`"label", "description" and "identifier" are required for every action.`)
			case len([]rune(a.Label)) > maxActionLabel:
				return invalidRequest(fmt.Sprintf("Action label %q is longer than %d characters.", a.Label, maxActionLabel))
			case len([]rune(a.Identifier)) > maxActionIdentifier:
				return invalidRequest(fmt.Sprintf("Action identifier %q is longer than %d characters.", a.Identifier, maxActionIdentifier))
			case len([]rune(a.Description)) > maxActionDescription:
				return invalidRequest(fmt.Sprintf("Action description %q is longer than %d characters.", a.Description, maxActionDescription))
			}
		}
	}
	return ""
}

// apply copies the request's fields onto run. A conclusion completes the run.
func (req *checkRunRequest) apply(run *checkRun, now time.Time) {
	if req.Name != nil {
		run.name = *req.Name
	}
	if req.DetailsURL != nil {
		run.detailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		run.externalID = *req.ExternalID
	}
	if req.Status != nil {
		run.status = *req.Status
	}
	if req.StartedAt != nil {
		t, _ := time.Parse(time.RFC3339, *req.StartedAt)
		run.startedAt = t
	}
	if req.Conclusion != nil {
		run.conclusion = *req.Conclusion
		run.status = "completed"
	}
	if req.CompletedAt != nil {
		t, _ := time.Parse(time.RFC3339, *req.CompletedAt)
		run.completedAt = t
		run.status = "completed"
	}
	if run.status == "completed" && run.completedAt.IsZero() {
		run.completedAt = now
	}
	if o := req.Output; o != nil {
		run.output = CheckRunOutput{Title: *o.Title, Summary: *o.Summary}
		if o.Text != nil {
			run.output.Text = *o.Text
		}
		run.annotations += len(o.Annotations)
	}
	if req.Actions != nil {
		run.actions = append([]CheckRunAction(nil), *req.Actions...)
	}
}

// checkRunJSON renders a check run as the checks API does.
func checkRunJSON(g *GitHub, r *Repo, run *checkRun, apiURL string) *github.CheckRun {
	api := apiURL + "/repos/" + r.fullName()
	out := &github.CheckRun{
		ID:         ptr(run.id),
		NodeID:     ptr(nodeID("CheckRun", run.id)),
		HeadSHA:    ptr(run.headSHA.String()),
		ExternalID: ptr(run.externalID),
		URL:        ptr(api + "/check-runs/" + itoa(run.id)),
		HTMLURL:    ptr(g.opts.WebURL + "/" + r.fullName() + "/runs/" + itoa(run.id)),
		DetailsURL: ptr(run.detailsURL),
		Status:     ptr(run.status),
		StartedAt:  ts(run.startedAt),
		Name:       ptr(run.name),
		CheckSuite: &github.CheckSuite{ID: ptr(run.suite.id)},
		App:        g.appJSON(apiURL),
		Output: &github.CheckRunOutput{
			Title:            ptr(run.output.Title),
			Summary:          ptr(run.output.Summary),
			Text:             ptr(run.output.Text),
			AnnotationsCount: ptr(run.annotations),
			AnnotationsURL:   ptr(api + "/check-runs/" + itoa(run.id) + "/annotations"),
		},
		PullRequests: pullRefsFor(r, run.headSHA, apiURL),
	}
	if run.conclusion != "" {
		out.Conclusion = ptr(run.conclusion)
	}
	if !run.completedAt.IsZero() {
		out.CompletedAt = ts(run.completedAt)
	}
	return out
}

// pullRefsFor lists the open pull requests whose head is sha, in the short
// form check runs and suites carry.
func pullRefsFor(r *Repo, sha plumbing.Hash, apiURL string) []*github.PullRequest {
	out := []*github.PullRequest{}
	for _, is := range r.sortedIssuesLocked() {
		if is.pr == nil || is.state != "open" || r.currentHeadLocked(is.pr) != sha {
			continue
		}
		repoRef := &github.Repository{ID: ptr(r.id), Name: ptr(r.name), URL: ptr(apiURL + "/repos/" + r.fullName())}
		out = append(out, &github.PullRequest{
			ID:     ptr(is.pr.id),
			Number: ptr(is.number),
			URL:    ptr(apiURL + "/repos/" + r.fullName() + "/pulls/" + strconv.Itoa(is.number)),
			Head:   &github.PullRequestBranch{Ref: ptr(is.pr.head), SHA: ptr(sha.String()), Repo: repoRef},
			Base:   &github.PullRequestBranch{Ref: ptr(is.pr.base), SHA: ptr(r.refs["refs/heads/"+is.pr.base].String()), Repo: repoRef},
		})
	}
	return out
}

func (g *GitHub) createCheckRun(c *call) {
	var req checkRunRequest
	if !c.decode(&req) {
		return
	}
	if msg := req.validate(true); msg != "" {
		c.unprocessable(msg)
		return
	}
	h, err := c.repo.resolveLocked(*req.HeadSHA)
	if _, isFull := parseHash(*req.HeadSHA); err != nil || !isFull {
		c.unprocessable("No commit found for SHA: " + *req.HeadSHA)
		return
	}
	now := g.now()
	run := &checkRun{id: g.newID(), suite: c.repo.suiteLocked(h), headSHA: h, status: "queued", startedAt: now}
	req.apply(run, now)
	c.repo.checkRuns[run.id] = run
	c.json(http.StatusCreated, checkRunJSON(g, c.repo, run, c.apiURL()))
}

func (c *call) checkRunParam() *checkRun {
	id, err := strconv.ParseInt(c.param("check_run_id"), 10, 64)
	if err != nil {
		c.notFound()
		return nil
	}
	run, ok := c.repo.checkRuns[id]
	if !ok {
		c.notFound()
		return nil
	}
	return run
}

func (g *GitHub) updateCheckRun(c *call) {
	run := c.checkRunParam()
	if run == nil {
		return
	}
	var req checkRunRequest
	if !c.decode(&req) {
		return
	}
	if msg := req.validate(false); msg != "" {
		c.unprocessable(msg)
		return
	}
	req.apply(run, g.now())
	c.json(http.StatusOK, checkRunJSON(g, c.repo, run, c.apiURL()))
}

func (g *GitHub) getCheckRun(c *call) {
	if run := c.checkRunParam(); run != nil {
		c.json(http.StatusOK, checkRunJSON(g, c.repo, run, c.apiURL()))
	}
}

// listCheckRuns serves GET commits/{ref}/check-runs with check_name, status,
// app_id and filter (latest: the newest run of each name; all).
func (g *GitHub) listCheckRuns(c *call) {
	h, err := c.repo.resolveLocked(c.param("ref"))
	if err != nil {
		c.unprocessable("No commit found for SHA: " + c.param("ref"))
		return
	}
	q := c.r.URL.Query()
	if appID := q.Get("app_id"); appID != "" && appID != itoa(g.opts.AppID) {
		c.json(http.StatusOK, github.ListCheckRunsResults{Total: ptr(0), CheckRuns: []*github.CheckRun{}})
		return
	}
	runs := c.repo.sortedRunsLocked()
	var matches []*checkRun
	latest := map[string]bool{}
	for i := len(runs) - 1; i >= 0; i-- { // newest first
		run := runs[i]
		switch {
		case run.headSHA != h,
			q.Get("check_name") != "" && run.name != q.Get("check_name"),
			q.Get("status") != "" && run.status != q.Get("status"):
			continue
		}
		if q.Get("filter") != "all" {
			if latest[run.name] {
				continue
			}
			latest[run.name] = true
		}
		matches = append(matches, run)
	}
	out := []*github.CheckRun{}
	for _, run := range paginate(c, matches) {
		out = append(out, checkRunJSON(g, c.repo, run, c.apiURL()))
	}
	c.json(http.StatusOK, github.ListCheckRunsResults{Total: ptr(len(matches)), CheckRuns: out})
}
