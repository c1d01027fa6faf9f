package fakegithub

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v57/github"
)

// Commit statuses: what deployment tools such as Flux's notification-controller
// post on a commit, the two APIs that read them back, and the status webhook.

// maxStatusBranches is how many branches GitHub lists in a status webhook.
const maxStatusBranches = 10

var statusStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

type commitStatus struct {
	id          int64
	sha         plumbing.Hash
	state       string
	context     string
	description string
	targetURL   string
	creator     *user
	createdAt   time.Time
}

// StatusSpec is a commit status to post, as the REST API takes it.
type StatusSpec struct {
	State       string // error, failure, pending or success
	Context     string // "default" when empty, as GitHub does
	Description string
	TargetURL   string
	// Creator is the login of the account whose token posts the status.
	Creator string
}

// PostStatus stores a commit status on sha, as POST
// /repos/{owner}/{repo}/statuses/{sha} does for another integration's token
// (Flux's Provider posts with its own credentials), and delivers the status
// webhook GitHub then sends to the app.
func (r *Repo) PostStatus(ctx context.Context, sha string, spec StatusSpec) (*Delivery, error) {
	r.gh.mu.Lock()
	_, ev, err := r.postStatusLocked(sha, spec)
	r.gh.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("post status on %s: %w", sha, err)
	}
	return r.gh.deliver(ctx, ev)
}

func (r *Repo) postStatusLocked(sha string, spec StatusSpec) (*commitStatus, event, error) {
	g := r.gh
	h, ok := parseHash(sha)
	if !ok || len(sha) != 40 {
		return nil, event{}, fmt.Errorf("%q is not a full commit SHA", sha)
	}
	commit, err := r.obj.commit(h)
	if err != nil {
		return nil, event{}, fmt.Errorf("no commit %s", sha)
	}
	if !statusStates[spec.State] {
		return nil, event{}, fmt.Errorf("state %q is not one of error, failure, pending, success", spec.State)
	}
	if spec.Context == "" {
		spec.Context = "default"
	}
	creator := g.userLocked(spec.Creator)
	st := &commitStatus{
		id: g.newID(), sha: h, state: spec.State, context: spec.Context, description: spec.Description,
		targetURL: spec.TargetURL, creator: creator, createdAt: g.now(),
	}
	r.statuses = append(r.statuses, st)

	p, err := r.basePayloadLocked("", creator)
	if err != nil {
		return nil, event{}, err
	}
	c := &call{g: g, repo: r, base: g.apiURL}
	rc, err := c.repoCommitJSON(commit, false)
	if err != nil {
		return nil, event{}, err
	}
	p["id"] = st.id
	p["sha"] = sha
	p["name"] = r.fullName()
	p["target_url"] = nilIfEmpty(st.targetURL)
	p["avatar_url"] = avatarURL(creator)
	p["context"] = st.context
	p["description"] = nilIfEmpty(st.description)
	p["state"] = st.state
	p["commit"] = toMap(rc)
	p["branches"] = r.branchesContainingLocked(h)
	p["created_at"] = st.createdAt.Format("2006-01-02T15:04:05-07:00")
	p["updated_at"] = st.createdAt.Format("2006-01-02T15:04:05-07:00")
	return st, r.eventLocked("status", "", p), nil
}

func avatarURL(u *user) string {
	return fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.id)
}

// branchesContainingLocked lists, as a status webhook does, up to 10
// branches whose history holds h, by name.
func (r *Repo) branchesContainingLocked(h plumbing.Hash) []any {
	var names []string
	for ref, tip := range r.refs {
		name, ok := strings.CutPrefix(ref, "refs/heads/")
		if ok && (tip == h || r.obj.isAncestor(h, tip)) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > maxStatusBranches {
		names = names[:maxStatusBranches]
	}
	out := []any{}
	api := r.gh.apiURL + "/repos/" + r.fullName()
	for _, name := range names {
		tip := r.refs["refs/heads/"+name].String()
		out = append(out, map[string]any{
			"name":      name,
			"commit":    map[string]any{"sha": tip, "url": api + "/commits/" + tip},
			"protected": false,
		})
	}
	return out
}

// Statuses returns the statuses posted on sha, newest first.
func (r *Repo) Statuses(sha string) []github.RepoStatus {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, _ := parseHash(sha)
	var out []github.RepoStatus
	for _, st := range r.statusesOfLocked(h) {
		out = append(out, *statusJSON(r.gh, r, st, r.gh.apiURL))
	}
	return out
}

// statusesOfLocked are the statuses of commit h, newest first.
func (r *Repo) statusesOfLocked(h plumbing.Hash) []*commitStatus {
	var out []*commitStatus
	for i := len(r.statuses) - 1; i >= 0; i-- {
		if r.statuses[i].sha == h {
			out = append(out, r.statuses[i])
		}
	}
	return out
}

func statusJSON(g *GitHub, r *Repo, st *commitStatus, apiURL string) *github.RepoStatus {
	out := &github.RepoStatus{
		ID:        ptr(st.id),
		NodeID:    ptr(nodeID("StatusContext", st.id)),
		URL:       ptr(apiURL + "/repos/" + r.fullName() + "/statuses/" + st.sha.String()),
		AvatarURL: ptr(avatarURL(st.creator)),
		State:     ptr(st.state),
		Context:   ptr(st.context),
		Creator:   g.userJSON(st.creator, apiURL),
		CreatedAt: ts(st.createdAt),
		UpdatedAt: ts(st.createdAt),
	}
	if st.description != "" {
		out.Description = ptr(st.description)
	}
	if st.targetURL != "" {
		out.TargetURL = ptr(st.targetURL)
	}
	return out
}

// listStatuses serves GET /repos/{owner}/{repo}/commits/{ref}/statuses:
// every status of the commit, newest first, paginated.
func (g *GitHub) listStatuses(c *call) {
	commit, ok := c.resolveRev(c.param("ref"))
	if !ok {
		return
	}
	out := []*github.RepoStatus{}
	for _, st := range paginate(c, c.repo.statusesOfLocked(commit.Hash)) {
		out = append(out, statusJSON(g, c.repo, st, c.apiURL()))
	}
	c.json(http.StatusOK, out)
}

// combinedStatus serves GET /repos/{owner}/{repo}/commits/{ref}/status: the
// latest status of each context, newest first, and their combined state:
// failure when any is error or failure, pending when any is pending or there
// are none, success otherwise.
func (g *GitHub) combinedStatus(c *call) {
	commit, ok := c.resolveRev(c.param("ref"))
	if !ok {
		return
	}
	seen := map[string]bool{}
	var latest []*commitStatus
	for _, st := range c.repo.statusesOfLocked(commit.Hash) {
		if !seen[st.context] {
			seen[st.context] = true
			latest = append(latest, st)
		}
	}
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, st := range latest {
		switch st.state {
		case "error", "failure":
			state = "failure"
		case "pending":
			if state != "failure" {
				state = "pending"
			}
		}
	}
	statuses := []*github.RepoStatus{}
	for _, st := range paginate(c, latest) {
		js := statusJSON(g, c.repo, st, c.apiURL())
		js.Creator = nil // the combined view leaves out the creator
		statuses = append(statuses, js)
	}
	sha := commit.Hash.String()
	api := c.repoAPI()
	c.json(http.StatusOK, &github.CombinedStatus{
		State:         ptr(state),
		Name:          ptr(c.repo.fullName()),
		SHA:           ptr(sha),
		TotalCount:    ptr(len(latest)),
		Statuses:      statuses,
		CommitURL:     ptr(api + "/commits/" + sha),
		RepositoryURL: ptr(api),
	})
}

// createStatus serves POST /repos/{owner}/{repo}/statuses/{sha}, as Flux's
// github Provider calls it, and then delivers the status webhook without
// making the caller wait, as GitHub does. The creator is the token's App.
func (g *GitHub) createStatus(c *call) {
	var req struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !c.decode(&req) {
		return
	}
	if !statusStates[req.State] {
		c.validationFailed(validationError{Resource: "Status", Field: "state", Code: "custom", Message: "state is not included in the list"})
		return
	}
	sha := c.param("sha")
	st, ev, err := c.repo.postStatusLocked(sha, StatusSpec{
		State: req.State, Context: req.Context, Description: req.Description, TargetURL: req.TargetURL, Creator: g.BotLogin(),
	})
	if err != nil {
		c.unprocessable("No commit found for SHA: " + sha)
		return
	}
	c.json(http.StatusCreated, statusJSON(g, c.repo, st, c.apiURL()))
	go func() { _, _ = g.deliver(context.Background(), ev) }()
}
