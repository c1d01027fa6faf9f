package fakegithub

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v57/github"
)

// The Git Data API: blobs, trees, commits and refs.

func (c *call) repoAPI() string { return c.apiURL() + "/repos/" + c.repo.fullName() }

// base64Lines encodes as GitHub does for blobs and contents: base64 with a
// newline after every 60 characters.
func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(s) > 60 {
		sb.WriteString(s[:60])
		sb.WriteByte('\n')
		s = s[60:]
	}
	sb.WriteString(s)
	sb.WriteByte('\n')
	return sb.String()
}

func (g *GitHub) createBlob(c *call) {
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Content == nil {
		c.validationFailed(validationError{Resource: "Blob", Field: "content", Code: "missing_field"})
		return
	}
	var content []byte
	switch req.Encoding {
	case "", "utf-8", "utf8":
		content = []byte(*req.Content)
	case "base64":
		b, err := base64.StdEncoding.DecodeString(*req.Content)
		if err != nil {
			c.unprocessable("Invalid request.\n\nThe content is not valid Base64.")
			return
		}
		content = b
	default:
		c.unprocessable("Invalid request.\n\nencoding must be one of utf-8, base64.")
		return
	}
	h, err := c.repo.obj.put(plumbing.BlobObject, content)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusCreated, github.Blob{SHA: ptr(h.String()), URL: ptr(c.repoAPI() + "/git/blobs/" + h.String())})
}

func (g *GitHub) getBlob(c *call) {
	h, ok := parseHash(c.param("file_sha"))
	if !ok {
		c.notFound()
		return
	}
	b, err := c.repo.obj.blob(h)
	if err != nil {
		c.failErr(err)
		return
	}
	if c.wantsMedia("raw") {
		c.raw(b)
		return
	}
	c.json(http.StatusOK, github.Blob{
		SHA:      ptr(h.String()),
		NodeID:   ptr(nodeID("Blob", 0) + h.String()[:8]),
		Size:     ptr(len(b)),
		URL:      ptr(c.repoAPI() + "/git/blobs/" + h.String()),
		Content:  ptr(base64Lines(b)),
		Encoding: ptr("base64"),
	})
}

// treeish resolves what GET git/trees accepts: a tree SHA, a commit SHA, a
// branch or tag name, or "<rev>:<path>" naming a directory of a commit.
func (r *Repo) treeishLocked(s string) (plumbing.Hash, error) {
	if rev, p, ok := strings.Cut(s, ":"); ok {
		commit, err := r.resolveLocked(rev)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		c, err := r.obj.commit(commit)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e, err := r.obj.lookup(c.TreeHash, p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if e.Mode != filemode.Dir {
			return plumbing.ZeroHash, errNotFound
		}
		return e.Hash, nil
	}
	if h, ok := parseHash(s); ok {
		t, err := r.obj.kind(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch t {
		case plumbing.TreeObject:
			return h, nil
		case plumbing.CommitObject, plumbing.TagObject:
		default:
			return plumbing.ZeroHash, errNotFound
		}
	}
	commit, err := r.resolveLocked(s)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c, err := r.obj.commit(commit)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.TreeHash, nil
}

func (c *call) treeJSON(h plumbing.Hash, recursive bool) (*github.Tree, error) {
	api := c.repoAPI()
	entries := []*github.TreeEntry{}
	err := c.repo.obj.walkTree(h, recursive, func(p string, e object.TreeEntry) {
		te := &github.TreeEntry{
			Path: ptr(p),
			Mode: ptr(modeString(e.Mode)),
			Type: ptr(objectType(e.Mode)),
			SHA:  ptr(e.Hash.String()),
		}
		switch e.Mode {
		case filemode.Dir:
			te.URL = ptr(api + "/git/trees/" + e.Hash.String())
		case filemode.Submodule:
		default:
			te.Size = ptr(c.repo.obj.blobSize(e.Hash))
			te.URL = ptr(api + "/git/blobs/" + e.Hash.String())
		}
		entries = append(entries, te)
	})
	if err != nil {
		return nil, err
	}
	return &github.Tree{SHA: ptr(h.String()), Entries: entries, Truncated: ptr(false)}, nil
}

// treeResponse adds the url field go-github's Tree lacks.
type treeResponse struct {
	*github.Tree
	URL string `json:"url"`
}

func (g *GitHub) getTree(c *call) {
	h, err := c.repo.treeishLocked(c.param("tree_sha"))
	if err != nil {
		c.failErr(err)
		return
	}
	_, recursive := c.r.URL.Query()["recursive"]
	t, err := c.treeJSON(h, recursive)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, treeResponse{t, c.repoAPI() + "/git/trees/" + h.String()})
}

// createTreeEntry keeps "sha": null apart from a missing sha.
type createTreeEntry struct {
	Path    string          `json:"path"`
	Mode    string          `json:"mode"`
	Type    string          `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

func (g *GitHub) createTree(c *call) {
	var req struct {
		BaseTree string            `json:"base_tree"`
		Tree     []createTreeEntry `json:"tree"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Tree == nil {
		c.validationFailed(validationError{Resource: "Tree", Field: "tree", Code: "missing_field"})
		return
	}
	base := plumbing.ZeroHash
	if req.BaseTree != "" {
		h, ok := parseHash(req.BaseTree)
		if t, err := c.repo.obj.kind(h); !ok || err != nil || t != plumbing.TreeObject {
			c.unprocessable("base_tree is not a valid tree oid")
			return
		}
		base = h
	}
	changes := make([]treeChange, 0, len(req.Tree))
	for _, e := range req.Tree {
		change, msg := c.treeEntryChange(e)
		if msg != "" {
			c.unprocessable(msg)
			return
		}
		changes = append(changes, change)
	}
	h, err := c.repo.obj.applyChanges(base, changes)
	if err != nil {
		c.failErr(err)
		return
	}
	if h.IsZero() {
		if h, err = c.repo.obj.emptyTree(); err != nil {
			c.failErr(err)
			return
		}
	}
	t, err := c.treeJSON(h, false)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusCreated, treeResponse{t, c.repoAPI() + "/git/trees/" + h.String()})
}

// treeEntryChange validates one entry of a create-tree request.
func (c *call) treeEntryChange(e createTreeEntry) (treeChange, string) {
	if strings.Trim(e.Path, "/") == "" {
		return treeChange{}, "tree.path cannot be blank"
	}
	mode, err := parseMode(e.Mode)
	if err != nil {
		return treeChange{}, "tree.mode must be one of 100644, 100755, 040000, 160000, 120000"
	}
	if e.Type != "" && e.Type != objectType(mode) {
		return treeChange{}, "tree.type must be " + objectType(mode) + " for mode " + e.Mode
	}
	shaNull := string(e.SHA) == "null"
	hasSHA := len(e.SHA) > 0 && !shaNull
	switch {
	case hasSHA && e.Content != nil:
		return treeChange{}, "Must supply either tree.sha or tree.content. Request will be rejected if both are present."
	case shaNull:
		return treeChange{path: e.Path, delete: true}, ""
	case e.Content != nil:
		if mode == filemode.Dir || mode == filemode.Submodule {
			return treeChange{}, "tree.content can only be used for blobs"
		}
		h, err := c.repo.obj.put(plumbing.BlobObject, []byte(*e.Content))
		if err != nil {
			return treeChange{}, err.Error()
		}
		return treeChange{path: e.Path, mode: mode, hash: h}, ""
	case hasSHA:
		var s string
		if err := json.Unmarshal(e.SHA, &s); err != nil {
			return treeChange{}, "tree.sha must be a string"
		}
		h, ok := parseHash(s)
		if !ok {
			return treeChange{}, "tree.sha " + s + " is not a valid " + objectType(mode)
		}
		if mode != filemode.Submodule {
			t, err := c.repo.obj.kind(h)
			if err != nil || t.String() != objectType(mode) {
				return treeChange{}, "tree.sha " + s + " is not a valid " + objectType(mode)
			}
		}
		return treeChange{path: e.Path, mode: mode, hash: h}, ""
	}
	return treeChange{}, "Must supply either tree.sha or tree.content. Request will be rejected if both are present."
}

// authorJSON renders a commit signature with its time zone, as GitHub does.
func authorJSON(s object.Signature) *github.CommitAuthor {
	return &github.CommitAuthor{Name: ptr(s.Name), Email: ptr(s.Email), Date: &github.Timestamp{Time: s.When}}
}

// gitCommitJSON renders a commit as the Git Data API does (and as the
// "commit" member of the commits API).
func (c *call) gitCommitJSON(commit *object.Commit) *github.Commit {
	api := c.repoAPI()
	sha := commit.Hash.String()
	parents := []*github.Commit{}
	for _, p := range commit.ParentHashes {
		parents = append(parents, &github.Commit{
			SHA:     ptr(p.String()),
			URL:     ptr(api + "/git/commits/" + p.String()),
			HTMLURL: ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/commit/" + p.String()),
		})
	}
	verification := &github.SignatureVerification{Verified: ptr(false), Reason: ptr("unsigned")}
	if c.repo.signedByGitHub(commit.Hash) {
		verification = &github.SignatureVerification{Verified: ptr(true), Reason: ptr("valid")}
	}
	return &github.Commit{
		SHA:          ptr(sha),
		NodeID:       ptr(nodeID("Commit", 0) + sha[:8]),
		URL:          ptr(api + "/git/commits/" + sha),
		HTMLURL:      ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/commit/" + sha),
		Author:       authorJSON(commit.Author),
		Committer:    authorJSON(commit.Committer),
		Message:      ptr(commit.Message),
		Tree:         &github.Tree{SHA: ptr(commit.TreeHash.String())},
		Parents:      parents,
		Verification: verification,
	}
}

// gitCommitResponse adds the tree url go-github's Tree lacks.
type gitCommitResponse struct {
	*github.Commit
	Tree struct {
		SHA string `json:"sha"`
		URL string `json:"url"`
	} `json:"tree"`
}

func (c *call) gitCommitResponse(commit *object.Commit) gitCommitResponse {
	out := gitCommitResponse{Commit: c.gitCommitJSON(commit)}
	out.Tree.SHA = commit.TreeHash.String()
	out.Tree.URL = c.repoAPI() + "/git/trees/" + out.Tree.SHA
	return out
}

func (g *GitHub) getGitCommit(c *call) {
	h, ok := parseHash(c.param("commit_sha"))
	if !ok {
		c.notFound()
		return
	}
	commit, err := c.repo.obj.commit(h)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, c.gitCommitResponse(commit))
}

type commitAuthorRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (a *commitAuthorRequest) signature(now time.Time) (Signature, string) {
	if a.Name == "" || a.Email == "" {
		return Signature{}, "Invalid request.\n\n\"name\" and \"email\" are required."
	}
	when := now
	if a.Date != "" {
		t, err := time.Parse(time.RFC3339, a.Date)
		if err != nil {
			return Signature{}, "Invalid request.\n\n" + a.Date + " is not a valid date-time."
		}
		when = t
	}
	return Signature{Name: a.Name, Email: a.Email, When: when}, ""
}

func (g *GitHub) createCommit(c *call) {
	var req struct {
		Message   *string              `json:"message"`
		Tree      string               `json:"tree"`
		Parents   []string             `json:"parents"`
		Author    *commitAuthorRequest `json:"author"`
		Committer *commitAuthorRequest `json:"committer"`
		Signature string               `json:"signature"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Message == nil || req.Tree == "" {
		c.unprocessable("Invalid request.\n\n\"message\" and \"tree\" are required.")
		return
	}
	now := g.now()
	// Without an author GitHub commits as the app's bot and signs the commit
	// itself (committer "GitHub"), so it shows as verified.
	signed := req.Author == nil && req.Committer == nil
	bot := g.botLocked()
	author := Signature{Name: bot.login, Email: botEmail(bot), When: now}
	committer := Signature{Name: "GitHub", Email: "noreply@github.com", When: now}
	if req.Author != nil {
		var msg string
		if author, msg = req.Author.signature(now); msg != "" {
			c.unprocessable(msg)
			return
		}
		committer = author
	}
	if req.Committer != nil {
		var msg string
		if committer, msg = req.Committer.signature(now); msg != "" {
			c.unprocessable(msg)
			return
		}
	}
	h, err := c.repo.obj.writeCommit(CommitObject{
		Tree: req.Tree, Parents: req.Parents, Author: author, Committer: committer, Message: *req.Message,
	})
	if err != nil {
		c.failErr(err)
		return
	}
	if signed {
		c.repo.markSigned(h)
	}
	commit, err := c.repo.obj.commit(h)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusCreated, c.gitCommitResponse(commit))
}

func botEmail(bot *user) string {
	return itoa(bot.id) + "+" + bot.login + "@users.noreply.github.com"
}

// refJSON renders a ref as the Git Data API does.
func (c *call) refJSON(name string, h plumbing.Hash) *github.Reference {
	kind := "commit"
	if t, err := c.repo.obj.kind(h); err == nil {
		kind = t.String()
	}
	api := c.repoAPI()
	return &github.Reference{
		Ref:    ptr(name),
		URL:    ptr(api + "/git/" + name),
		NodeID: ptr(nodeID("Ref", 0) + name),
		Object: &github.GitObject{Type: ptr(kind), SHA: ptr(h.String()), URL: ptr(api + "/git/" + kind + "s/" + h.String())},
	}
}

// refParam is the {ref} of the refs routes as a full ref name.
func (c *call) refParam() string {
	return "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
}

func (g *GitHub) getRef(c *call) {
	name := c.refParam()
	h, ok := c.repo.refs[name]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.refJSON(name, h))
}

func (g *GitHub) matchingRefs(c *call) {
	prefix := c.refParam()
	var names []string
	for name := range c.repo.refs {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := []*github.Reference{}
	for _, name := range names {
		out = append(out, c.refJSON(name, c.repo.refs[name]))
	}
	c.json(http.StatusOK, out)
}

func (g *GitHub) createRef(c *call) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&req) {
		return
	}
	if !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2 {
		c.unprocessable("Reference name must start with 'refs/' and have at least two slashes.")
		return
	}
	if _, ok := c.repo.refs[req.Ref]; ok {
		c.unprocessable("Reference already exists")
		return
	}
	h, ok := parseHash(req.SHA)
	if _, err := c.repo.obj.kind(h); !ok || err != nil {
		c.unprocessable("Object does not exist")
		return
	}
	c.repo.refs[req.Ref] = h
	c.json(http.StatusCreated, c.refJSON(req.Ref, h))
}

func (g *GitHub) updateRef(c *call) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&req) {
		return
	}
	name := c.refParam()
	old, exists := c.repo.refs[name]
	if !exists {
		c.unprocessable("Reference does not exist")
		return
	}
	h, ok := parseHash(req.SHA)
	if _, err := c.repo.obj.kind(h); !ok || err != nil {
		c.unprocessable("Object does not exist")
		return
	}
	if !req.Force && !c.repo.obj.isAncestor(old, h) {
		c.unprocessable("Update is not a fast forward")
		return
	}
	c.repo.refs[name] = h
	c.json(http.StatusOK, c.refJSON(name, h))
}

func (g *GitHub) deleteRef(c *call) {
	name := c.refParam()
	if _, ok := c.repo.refs[name]; !ok {
		c.unprocessable("Reference does not exist")
		return
	}
	delete(c.repo.refs, name)
	c.noContent()
}
