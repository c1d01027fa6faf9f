package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v57/github"
)

// Issues, pull requests, comments, labels, reactions and collaborator
// permissions.

// issue is an issue or, when pr is set, a pull request (they share numbers).
type issue struct {
	number    int
	id        int64
	title     string
	body      string
	user      *user
	state     string // "open" or "closed"
	labels    []string
	createdAt time.Time
	closedAt  time.Time // zero while open
	pr        *pullRequest
}

type pullRequest struct {
	id        int64
	head      string // branch of this repository
	base      string
	headSHA   plumbing.Hash // head at creation; follows the branch while it exists
	draft     bool
	reviewers []string
	merged    *mergeRecord // nil until merged
}

// label is a repository label.
type label struct {
	id    int64
	name  string
	color string
}

type issueComment struct {
	id        int64
	issue     int
	user      *user
	body      string
	viaApp    bool
	createdAt time.Time
}

type commitComment struct {
	id        int64
	commitID  string
	user      *user
	body      string
	path      string
	line      int
	createdAt time.Time
}

type reaction struct {
	id        int64
	user      *user
	content   string
	createdAt time.Time
}

// Issue is a snapshot of an issue or pull request.
type Issue struct {
	Number        int
	Title         string
	Body          string
	User          string
	State         string
	Labels        []string
	IsPullRequest bool
}

// PullRequest is a snapshot of a pull request.
type PullRequest struct {
	Number             int
	ID                 int64
	Title              string
	Body               string
	User               string
	State              string
	Head               string // branch name
	HeadSHA            string
	Base               string
	Draft              bool
	RequestedReviewers []string
	Labels             []string
	Merged             bool
	MergeCommitSHA     string // the commit the merge made on the base branch
	MergedBy           string
}

// IssueComment is a snapshot of a comment on an issue or pull request.
type IssueComment struct {
	ID     int64
	Issue  int
	User   string
	Body   string
	ViaApp bool // posted with the app's installation token
}

// CommitComment is a snapshot of a comment on a commit.
type CommitComment struct {
	ID       int64
	CommitID string
	User     string
	Body     string
	Path     string
	Line     int
}

// Reaction is a snapshot of a reaction to a comment.
type Reaction struct {
	ID      int64
	User    string
	Content string
}

// AddIssue opens an issue by the repository owner and returns its number.
func (r *Repo) AddIssue(title string) int {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	return r.addIssueLocked(title, "", r.owner, nil).number
}

func (r *Repo) addIssueLocked(title, body string, author *user, pr *pullRequest) *issue {
	r.nextNumber++
	is := &issue{
		number: r.nextNumber, id: r.gh.newID(), title: title, body: body, user: author,
		state: "open", createdAt: r.gh.now(), pr: pr,
	}
	r.issues[is.number] = is
	return is
}

// PullRequestSpec describes a pull request opened by a user.
type PullRequestSpec struct {
	Title string
	Body  string
	User  string // default: the repository owner
	Head  string // branch of this repository
	Base  string // default: the default branch
	Draft bool
}

// OpenPullRequest opens a pull request as a user would (no webhook) and
// returns its number.
func (r *Repo) OpenPullRequest(spec PullRequestSpec) (int, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	author := r.owner
	if spec.User != "" {
		author = r.gh.userLocked(spec.User)
	}
	if spec.Base == "" {
		spec.Base = r.defaultBranch
	}
	is, msg := r.openPullLocked(spec.Title, spec.Body, author, spec.Head, spec.Base, spec.Draft)
	if msg != "" {
		return 0, fmt.Errorf("open pull request %s -> %s: %s", spec.Head, spec.Base, msg)
	}
	return is.number, nil
}

// openPullLocked validates and opens a pull request; msg is GitHub's
// validation message when it refuses.
func (r *Repo) openPullLocked(title, body string, author *user, head, base string, draft bool) (*issue, string) {
	headSHA, ok := r.refs["refs/heads/"+head]
	if !ok {
		return nil, "head"
	}
	baseSHA, ok := r.refs["refs/heads/"+base]
	if !ok {
		return nil, "base"
	}
	for _, is := range r.issues {
		if is.pr != nil && is.state == "open" && is.pr.head == head && is.pr.base == base {
			return nil, "A pull request already exists for " + r.owner.login + ":" + head + "."
		}
	}
	if r.obj.isAncestor(headSHA, baseSHA) {
		return nil, "No commits between " + base + " and " + head
	}
	pr := &pullRequest{id: r.gh.newID(), head: head, base: base, headSHA: headSHA, draft: draft}
	return r.addIssueLocked(title, body, author, pr), ""
}

// currentHeadLocked is the PR head's SHA: the branch tip while it exists.
func (r *Repo) currentHeadLocked(pr *pullRequest) plumbing.Hash {
	if h, ok := r.refs["refs/heads/"+pr.head]; ok {
		return h
	}
	return pr.headSHA
}

func (r *Repo) openIssuesLocked() int {
	n := 0
	for _, is := range r.issues {
		if is.state == "open" {
			n++
		}
	}
	return n
}

// reactionSummaryLocked is the "reactions" object of comments and issues.
func (r *Repo) reactionSummaryLocked(commentID int64, url string) map[string]any {
	m := map[string]any{"url": url + "/reactions", "total_count": len(r.reactions[commentID])}
	for content := range reactionContents {
		m[content] = 0
	}
	for _, re := range r.reactions[commentID] {
		m[re.content] = m[re.content].(int) + 1
	}
	return m
}

// Issues returns every issue and pull request, by number.
func (r *Repo) Issues() []Issue {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []Issue
	for _, is := range r.sortedIssuesLocked() {
		out = append(out, Issue{
			Number: is.number, Title: is.title, Body: is.body, User: is.user.login, State: is.state,
			Labels: append([]string(nil), is.labels...), IsPullRequest: is.pr != nil,
		})
	}
	return out
}

func (r *Repo) sortedIssuesLocked() []*issue {
	out := make([]*issue, 0, len(r.issues))
	for _, is := range r.issues {
		out = append(out, is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

// PullRequests returns every pull request, by number.
func (r *Repo) PullRequests() []PullRequest {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []PullRequest
	for _, is := range r.sortedIssuesLocked() {
		if is.pr == nil {
			continue
		}
		out = append(out, PullRequest{
			Number: is.number, ID: is.pr.id, Title: is.title, Body: is.body, User: is.user.login, State: is.state,
			Head: is.pr.head, HeadSHA: r.currentHeadLocked(is.pr).String(), Base: is.pr.base, Draft: is.pr.draft,
			RequestedReviewers: append([]string(nil), is.pr.reviewers...), Labels: append([]string(nil), is.labels...),
		})
		if m := is.pr.merged; m != nil {
			last := &out[len(out)-1]
			last.Merged, last.MergeCommitSHA, last.MergedBy = true, m.commit.String(), m.by.login
		}
	}
	return out
}

// Labels returns the labels of an issue or pull request.
func (r *Repo) Labels(number int) []string {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	if is, ok := r.issues[number]; ok {
		return append([]string(nil), is.labels...)
	}
	return nil
}

// IssueComments returns the comments of an issue or pull request, oldest first.
func (r *Repo) IssueComments(number int) []IssueComment {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []IssueComment
	for _, cm := range r.issueCommentsLocked(number) {
		out = append(out, IssueComment{ID: cm.id, Issue: cm.issue, User: cm.user.login, Body: cm.body, ViaApp: cm.viaApp})
	}
	return out
}

func (r *Repo) issueCommentsLocked(number int) []*issueComment {
	var out []*issueComment
	for _, cm := range r.issueComments {
		if cm.issue == number {
			out = append(out, cm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// CommitComments returns every commit comment, oldest first.
func (r *Repo) CommitComments() []CommitComment {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []CommitComment
	for _, cm := range r.commitCommentsLocked("") {
		out = append(out, CommitComment{ID: cm.id, CommitID: cm.commitID, User: cm.user.login, Body: cm.body, Path: cm.path, Line: cm.line})
	}
	return out
}

// commitCommentsLocked lists the comments on sha ("" for all commits).
func (r *Repo) commitCommentsLocked(sha string) []*commitComment {
	var out []*commitComment
	for _, cm := range r.commitComments {
		if sha == "" || cm.commitID == sha {
			out = append(out, cm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (r *Repo) commentCountLocked(sha string) int { return len(r.commitCommentsLocked(sha)) }

// Reactions returns the reactions to an issue comment or commit comment.
func (r *Repo) Reactions(commentID int64) []Reaction {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var out []Reaction
	for _, re := range r.reactions[commentID] {
		out = append(out, Reaction{ID: re.id, User: re.user.login, Content: re.content})
	}
	return out
}

// association is the author_association GitHub reports for a user.
func (r *Repo) associationLocked(u *user) string {
	switch {
	case u == r.owner:
		return "OWNER"
	case r.roles[strings.ToLower(u.login)] != "":
		return "COLLABORATOR"
	}
	return "NONE"
}

// isCollaboratorLocked reports whether login has a role on the repository
// (the owner of a personal repository always has).
func (r *Repo) isCollaboratorLocked(login string) bool {
	return r.roles[strings.ToLower(login)] != "" || (strings.EqualFold(login, r.owner.login) && r.owner.kind == "User")
}

// roleLocked returns login's role_name and the legacy permission derived
// from it, as the collaborator permission route reports them.
//
// GitHub answers 404 only for logins that are not GitHub users. A user who
// is not a collaborator gets "read" on a public repository (anyone may read
// it) and "none" on a private one.
func (r *Repo) roleLocked(login string) (permission, role string) {
	role = r.roles[strings.ToLower(login)]
	if strings.EqualFold(login, r.owner.login) && r.owner.kind == "User" {
		role = "admin"
	}
	if role == "" {
		if r.private {
			return "none", "none"
		}
		return "read", "read"
	}
	switch role {
	case "maintain":
		return "write", role
	case "triage":
		return "read", role
	}
	return role, role
}

func (g *GitHub) getPermission(c *call) {
	login := c.param("username")
	u, ok := g.users[strings.ToLower(login)]
	if !ok || u.kind == "Organization" {
		c.notFound()
		return
	}
	permission, role := c.repo.roleLocked(login)
	c.json(http.StatusOK, struct {
		*github.RepositoryPermissionLevel
		RoleName string `json:"role_name"`
	}{&github.RepositoryPermissionLevel{Permission: ptr(permission), User: g.userJSON(u, c.apiURL())}, role})
}

// pullJSON renders a pull request as the pulls API does.
func (c *call) pullJSON(is *issue) *github.PullRequest {
	r := c.repo
	api := c.repoAPI()
	web := c.g.opts.WebURL + "/" + r.fullName() + "/pull/" + strconv.Itoa(is.number)
	repoJSON := c.g.repoJSON(r, c.apiURL())
	owner := c.g.userJSON(r.owner, c.apiURL())
	baseSHA := r.refs["refs/heads/"+is.pr.base]
	reviewers := []*github.User{}
	for _, login := range is.pr.reviewers {
		reviewers = append(reviewers, c.g.userJSON(c.g.userLocked(login), c.apiURL()))
	}
	out := &github.PullRequest{
		ID:                  ptr(is.pr.id),
		NodeID:              ptr(nodeID("PullRequest", is.pr.id)),
		Number:              ptr(is.number),
		State:               ptr(is.state),
		Title:               ptr(is.title),
		Body:                ptr(is.body),
		User:                c.g.userJSON(is.user, c.apiURL()),
		Draft:               ptr(is.pr.draft),
		Locked:              ptr(false),
		Merged:              ptr(false),
		MaintainerCanModify: ptr(false),
		Labels:              c.labelsJSON(is.labels),
		RequestedReviewers:  reviewers,
		RequestedTeams:      []*github.Team{},
		Head: &github.PullRequestBranch{
			Label: ptr(r.owner.login + ":" + is.pr.head), Ref: ptr(is.pr.head), SHA: ptr(r.currentHeadLocked(is.pr).String()),
			Repo: repoJSON, User: owner,
		},
		Base: &github.PullRequestBranch{
			Label: ptr(r.owner.login + ":" + is.pr.base), Ref: ptr(is.pr.base), SHA: ptr(baseSHA.String()),
			Repo: repoJSON, User: owner,
		},
		URL:       ptr(api + "/pulls/" + strconv.Itoa(is.number)),
		HTMLURL:   ptr(web),
		DiffURL:   ptr(web + ".diff"),
		PatchURL:  ptr(web + ".patch"),
		IssueURL:  ptr(api + "/issues/" + strconv.Itoa(is.number)),
		CreatedAt: ts(is.createdAt),
		UpdatedAt: ts(is.updatedAt()),
	}
	if !is.closedAt.IsZero() {
		out.ClosedAt = ts(is.closedAt)
	}
	if m := is.pr.merged; m != nil {
		out.Merged = ptr(true)
		out.MergedAt = ts(m.at)
		out.MergedBy = c.g.userJSON(m.by, c.apiURL())
		out.MergeCommitSHA = ptr(m.commit.String())
	}
	return out
}

func (c *call) labelsJSON(names []string) []*github.Label {
	out := []*github.Label{}
	for _, name := range names {
		l := c.repo.labels[strings.ToLower(name)]
		if l == nil {
			continue
		}
		out = append(out, &github.Label{
			ID: ptr(l.id), NodeID: ptr(nodeID("Label", l.id)), Name: ptr(l.name), Color: ptr(l.color),
			Default: ptr(false), URL: ptr(c.repoAPI() + "/labels/" + l.name),
		})
	}
	return out
}

func (g *GitHub) createPull(c *call) {
	var req struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Draft bool   `json:"draft"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Title == "" {
		c.validationFailed(validationError{Resource: "PullRequest", Field: "title", Code: "missing_field"})
		return
	}
	head := req.Head
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, c.repo.owner.login) {
			c.validationFailed(validationError{Resource: "PullRequest", Field: "head", Code: "invalid"})
			return
		}
		head = branch
	}
	is, msg := c.repo.openPullLocked(req.Title, req.Body, g.botLocked(), head, req.Base, req.Draft)
	switch msg {
	case "":
	case "head", "base":
		c.validationFailed(validationError{Resource: "PullRequest", Field: msg, Code: "invalid"})
		return
	default:
		c.validationFailed(validationError{Resource: "PullRequest", Code: "custom", Message: msg})
		return
	}
	c.json(http.StatusCreated, c.pullJSON(is))
}

// issueParam finds {issue_number} or {pull_number}, answering 404.
func (c *call) issueParam(name string, wantPull bool) *issue {
	n, err := strconv.Atoi(c.param(name))
	if err != nil {
		c.notFound()
		return nil
	}
	is, ok := c.repo.issues[n]
	if !ok || (wantPull && is.pr == nil) {
		c.notFound()
		return nil
	}
	return is
}

func (g *GitHub) getPull(c *call) {
	if is := c.issueParam("pull_number", true); is != nil {
		c.json(http.StatusOK, c.pullJSON(is))
	}
}

func (g *GitHub) listPulls(c *call) {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, c.repo.owner.login) {
			c.json(http.StatusOK, []*github.PullRequest{})
			return
		}
		head = branch
	}
	var matches []*issue
	for _, is := range c.repo.sortedIssuesLocked() {
		switch {
		case is.pr == nil,
			state != "all" && is.state != state,
			head != "" && is.pr.head != head,
			q.Get("base") != "" && is.pr.base != q.Get("base"):
			continue
		}
		matches = append(matches, is)
	}
	// Newest first, GitHub's default sort.
	sort.Slice(matches, func(i, j int) bool { return matches[i].number > matches[j].number })
	out := []*github.PullRequest{}
	for _, is := range paginate(c, matches) {
		out = append(out, c.pullJSON(is))
	}
	c.json(http.StatusOK, out)
}

func (g *GitHub) requestReviewers(c *call) {
	is := c.issueParam("pull_number", true)
	if is == nil {
		return
	}
	var req struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !c.decode(&req) {
		return
	}
	if len(req.TeamReviewers) > 0 {
		c.unprocessable("Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the " + c.repo.fullName() + " repository.")
		return
	}
	for _, login := range req.Reviewers {
		if strings.EqualFold(login, is.user.login) {
			c.unprocessable("Review cannot be requested from pull request author.")
			return
		}
		if !c.repo.isCollaboratorLocked(login) {
			c.unprocessable("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + c.repo.fullName() + " repository.")
			return
		}
	}
	for _, login := range req.Reviewers {
		if !containsFold(is.pr.reviewers, login) {
			is.pr.reviewers = append(is.pr.reviewers, g.userLocked(login).login)
		}
	}
	c.json(http.StatusCreated, c.pullJSON(is))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// issueJSON renders an issue (or the issue side of a pull request).
func (c *call) issueJSON(is *issue) *github.Issue {
	api := c.repoAPI()
	n := strconv.Itoa(is.number)
	out := &github.Issue{
		ID:                ptr(is.id),
		NodeID:            ptr(nodeID("Issue", is.id)),
		Number:            ptr(is.number),
		State:             ptr(is.state),
		Title:             ptr(is.title),
		Body:              ptr(is.body),
		User:              c.g.userJSON(is.user, c.apiURL()),
		Labels:            c.labelsJSON(is.labels),
		Locked:            ptr(false),
		Comments:          ptr(len(c.repo.issueCommentsLocked(is.number))),
		AuthorAssociation: ptr(c.repo.associationLocked(is.user)),
		URL:               ptr(api + "/issues/" + n),
		HTMLURL:           ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/issues/" + n),
		CommentsURL:       ptr(api + "/issues/" + n + "/comments"),
		RepositoryURL:     ptr(api),
		CreatedAt:         ts(is.createdAt),
		UpdatedAt:         ts(is.updatedAt()),
	}
	if !is.closedAt.IsZero() {
		out.ClosedAt = ts(is.closedAt)
	}
	if is.pr != nil {
		web := c.g.opts.WebURL + "/" + c.repo.fullName() + "/pull/" + n
		out.HTMLURL = ptr(web)
		out.PullRequestLinks = &github.PullRequestLinks{
			URL: ptr(api + "/pulls/" + n), HTMLURL: ptr(web), DiffURL: ptr(web + ".diff"), PatchURL: ptr(web + ".patch"),
		}
	}
	return out
}

func (g *GitHub) getIssue(c *call) {
	if is := c.issueParam("issue_number", false); is != nil {
		c.json(http.StatusOK, c.issueJSON(is))
	}
}

// issueCommentJSON renders an issue comment; performed_via_github_app names
// the app when the app posted it.
type issueCommentJSON struct {
	*github.IssueComment
	PerformedViaGithubApp *github.App `json:"performed_via_github_app"`
}

func (c *call) issueCommentJSON(cm *issueComment) issueCommentJSON {
	return issueCommentPayload(c.g, c.repo, cm, c.apiURL())
}

func issueCommentPayload(g *GitHub, r *Repo, cm *issueComment, apiURL string) issueCommentJSON {
	api := apiURL + "/repos/" + r.fullName()
	out := issueCommentJSON{IssueComment: &github.IssueComment{
		ID:                ptr(cm.id),
		NodeID:            ptr(nodeID("IssueComment", cm.id)),
		Body:              ptr(cm.body),
		User:              g.userJSON(cm.user, apiURL),
		AuthorAssociation: ptr(r.associationLocked(cm.user)),
		URL:               ptr(api + "/issues/comments/" + itoa(cm.id)),
		HTMLURL:           ptr(g.opts.WebURL + "/" + r.fullName() + "/issues/" + strconv.Itoa(cm.issue) + "#issuecomment-" + itoa(cm.id)),
		IssueURL:          ptr(api + "/issues/" + strconv.Itoa(cm.issue)),
		CreatedAt:         ts(cm.createdAt),
		UpdatedAt:         ts(cm.createdAt),
	}}
	if cm.viaApp {
		out.PerformedViaGithubApp = g.appJSON(apiURL)
	}
	return out
}

// maxCommentBody is GitHub's limit on comment bodies.
const maxCommentBody = 65536

func (g *GitHub) createIssueComment(c *call) {
	is := c.issueParam("issue_number", false)
	if is == nil {
		return
	}
	var req struct {
		Body string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	if msg := checkCommentBody(req.Body); msg != "" {
		c.validationFailed(validationError{Resource: "IssueComment", Field: "body", Code: "custom", Message: msg})
		return
	}
	cm := &issueComment{id: g.newID(), issue: is.number, user: g.botLocked(), body: req.Body, viaApp: true, createdAt: g.now()}
	c.repo.issueComments[cm.id] = cm
	c.json(http.StatusCreated, c.issueCommentJSON(cm))
}

func checkCommentBody(body string) string {
	switch {
	case strings.TrimSpace(body) == "":
		return "body cannot be blank"
	case len([]rune(body)) > maxCommentBody:
		return fmt.Sprintf("Body is too long (maximum is %d characters)", maxCommentBody)
	}
	return ""
}

func (g *GitHub) listIssueComments(c *call) {
	is := c.issueParam("issue_number", false)
	if is == nil {
		return
	}
	out := []issueCommentJSON{}
	for _, cm := range paginate(c, c.repo.issueCommentsLocked(is.number)) {
		out = append(out, c.issueCommentJSON(cm))
	}
	c.json(http.StatusOK, out)
}

// addLabels accepts a plain array of names or {"labels": [...]}, creating
// labels the repository does not have yet, and answers with all the labels
// of the issue.
func (g *GitHub) addLabels(c *call) {
	is := c.issueParam("issue_number", false)
	if is == nil {
		return
	}
	var names []string
	if err := json.Unmarshal(c.body, &names); err != nil {
		var wrapped struct {
			Labels []string `json:"labels"`
		}
		if !c.decode(&wrapped) {
			return
		}
		names = wrapped.Labels
	}
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			c.validationFailed(validationError{Resource: "Label", Field: "name", Code: "invalid"})
			return
		}
	}
	for _, name := range names {
		l := c.repo.labels[strings.ToLower(name)]
		if l == nil {
			l = &label{id: g.newID(), name: name, color: "ededed"}
			c.repo.labels[strings.ToLower(name)] = l
		}
		if !containsFold(is.labels, l.name) {
			is.labels = append(is.labels, l.name)
		}
	}
	c.json(http.StatusOK, c.labelsJSON(is.labels))
}

// reactionContents are the reactions GitHub accepts.
var reactionContents = map[string]bool{
	"+1": true, "-1": true, "laugh": true, "confused": true, "heart": true, "hooray": true, "rocket": true, "eyes": true,
}

// react adds the app's reaction to a comment; an existing identical reaction
// is answered with 200 instead of 201, as GitHub does.
func (c *call) react(commentID int64) {
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	if !reactionContents[req.Content] {
		c.validationFailed(validationError{Resource: "Reaction", Field: "content", Code: "invalid"})
		return
	}
	bot := c.g.botLocked()
	render := func(re *reaction) *github.Reaction {
		return &github.Reaction{
			ID: ptr(re.id), NodeID: ptr(nodeID("Reaction", re.id)), User: c.g.userJSON(re.user, c.apiURL()),
			Content: ptr(re.content),
		}
	}
	for _, re := range c.repo.reactions[commentID] {
		if re.user == bot && re.content == req.Content {
			c.json(http.StatusOK, render(re))
			return
		}
	}
	re := &reaction{id: c.g.newID(), user: bot, content: req.Content, createdAt: c.g.now()}
	c.repo.reactions[commentID] = append(c.repo.reactions[commentID], re)
	c.json(http.StatusCreated, render(re))
}

func (c *call) commentIDParam() (int64, bool) {
	id, err := strconv.ParseInt(c.param("comment_id"), 10, 64)
	if err != nil {
		c.notFound()
		return 0, false
	}
	return id, true
}

func (g *GitHub) reactToIssueComment(c *call) {
	id, ok := c.commentIDParam()
	if !ok {
		return
	}
	if _, ok := c.repo.issueComments[id]; !ok {
		c.notFound()
		return
	}
	c.react(id)
}

func (g *GitHub) reactToCommitComment(c *call) {
	id, ok := c.commentIDParam()
	if !ok {
		return
	}
	if _, ok := c.repo.commitComments[id]; !ok {
		c.notFound()
		return
	}
	c.react(id)
}

// commitCommentJSON renders a commit comment. go-github's type lacks line
// and author_association.
type commitCommentJSON struct {
	*github.RepositoryComment
	Line              *int   `json:"line"`
	AuthorAssociation string `json:"author_association"`
}

func commitCommentPayload(g *GitHub, r *Repo, cm *commitComment, apiURL string) commitCommentJSON {
	out := commitCommentJSON{RepositoryComment: &github.RepositoryComment{
		ID:        ptr(cm.id),
		NodeID:    ptr(nodeID("CommitComment", cm.id)),
		CommitID:  ptr(cm.commitID),
		User:      g.userJSON(cm.user, apiURL),
		Body:      ptr(cm.body),
		URL:       ptr(apiURL + "/repos/" + r.fullName() + "/comments/" + itoa(cm.id)),
		HTMLURL:   ptr(g.opts.WebURL + "/" + r.fullName() + "/commit/" + cm.commitID + "#commitcomment-" + itoa(cm.id)),
		CreatedAt: ts(cm.createdAt),
		UpdatedAt: ts(cm.createdAt),
	}, AuthorAssociation: r.associationLocked(cm.user)}
	if cm.path != "" {
		out.Path = ptr(cm.path)
		out.Line = ptr(cm.line)
	}
	return out
}

func (g *GitHub) createCommitComment(c *call) {
	var req struct {
		Body     string `json:"body"`
		Path     string `json:"path"`
		Position int    `json:"position"`
		Line     int    `json:"line"`
	}
	if !c.decode(&req) {
		return
	}
	h, err := c.repo.resolveLocked(c.param("commit_sha"))
	if err != nil {
		c.unprocessable("No commit found for SHA: " + c.param("commit_sha"))
		return
	}
	if msg := checkCommentBody(req.Body); msg != "" {
		c.validationFailed(validationError{Resource: "CommitComment", Field: "body", Code: "custom", Message: msg})
		return
	}
	cm := &commitComment{
		id: g.newID(), commitID: h.String(), user: g.botLocked(), body: req.Body, path: req.Path, line: req.Line, createdAt: g.now(),
	}
	c.repo.commitComments[cm.id] = cm
	c.json(http.StatusCreated, commitCommentPayload(g, c.repo, cm, c.apiURL()))
}

func (g *GitHub) listCommitComments(c *call) {
	h, err := c.repo.resolveLocked(c.param("commit_sha"))
	if err != nil {
		c.unprocessable("No commit found for SHA: " + c.param("commit_sha"))
		return
	}
	out := []commitCommentJSON{}
	for _, cm := range paginate(c, c.repo.commitCommentsLocked(h.String())) {
		out = append(out, commitCommentPayload(g, c.repo, cm, c.apiURL()))
	}
	c.json(http.StatusOK, out)
}
