package fakegithub

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Repo is a repository of the fake GitHub. Its methods are safe for
// concurrent use.
type Repo struct {
	gh             *GitHub
	id             int64
	owner          *user
	name           string
	defaultBranch  string
	private        bool
	installationID int64
	createdAt      time.Time

	obj objects
	// refs are the current values of refs/heads/* and refs/tags/*;
	// announced holds what the last push webhook told about each ref, so a
	// push reports everything that moved since (see Push).
	refs      map[string]plumbing.Hash
	announced map[string]plumbing.Hash
	signed    map[plumbing.Hash]bool // commits GitHub signed (API commits without author)

	roles          map[string]string // lower-case login -> role_name
	issues         map[int]*issue
	nextNumber     int
	labels         map[string]*label // by lower-case name
	issueComments  map[int64]*issueComment
	commitComments map[int64]*commitComment
	reactions      map[int64][]*reaction // by comment id
	suites         map[plumbing.Hash]*checkSuite
	checkRuns      map[int64]*checkRun
	statuses       []*commitStatus // oldest first
}

func newRepo(g *GitHub, id int64, owner *user, name string, opts RepoOptions) *Repo {
	return &Repo{
		gh:             g,
		id:             id,
		owner:          owner,
		name:           name,
		defaultBranch:  opts.DefaultBranch,
		private:        opts.Private,
		installationID: opts.Installation,
		createdAt:      g.now(),
		obj:            objects{store: memory.NewStorage()},
		refs:           map[string]plumbing.Hash{},
		announced:      map[string]plumbing.Hash{},
		signed:         map[plumbing.Hash]bool{},
		roles:          map[string]string{},
		issues:         map[int]*issue{},
		labels:         map[string]*label{},
		issueComments:  map[int64]*issueComment{},
		commitComments: map[int64]*commitComment{},
		reactions:      map[int64][]*reaction{},
		suites:         map[plumbing.Hash]*checkSuite{},
		checkRuns:      map[int64]*checkRun{},
	}
}

// ID is the repository's numeric id.
func (r *Repo) ID() int64 { return r.id }

// Owner is the login of the owning account.
func (r *Repo) Owner() string { return r.owner.login }

// Name is the repository name.
func (r *Repo) Name() string { return r.name }

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.fullName() }

func (r *Repo) fullName() string { return r.owner.login + "/" + r.name }

// DefaultBranch is the name of the default branch.
func (r *Repo) DefaultBranch() string { return r.defaultBranch }

// InstallationID is the installation that can see the repository (0: none).
func (r *Repo) InstallationID() int64 {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	return r.installationID
}

// SetInstallation moves the repository to another installation (0 removes
// it from every installation); no webhook is sent.
func (r *Repo) SetInstallation(id int64) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	r.installationID = id
}

// fullRef expands a short ref name: "main" and "heads/main" name
// refs/heads/main, "tags/v1" names refs/tags/v1.
func fullRef(ref string) string {
	switch {
	case strings.HasPrefix(ref, "refs/"):
		return ref
	case strings.HasPrefix(ref, "heads/"), strings.HasPrefix(ref, "tags/"):
		return "refs/" + ref
	}
	return "refs/heads/" + ref
}

// WriteBlob stores a blob and returns its SHA (git hash-object -w).
func (r *Repo) WriteBlob(content []byte) (string, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, err := r.obj.put(plumbing.BlobObject, content)
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	return h.String(), nil
}

// WriteTree stores a tree and returns its SHA (git mktree). Every entry but a
// gitlink (160000) must name an object of the right type in this repository.
func (r *Repo) WriteTree(entries []TreeEntry) (string, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	var gitEntries []object.TreeEntry
	for _, e := range entries {
		mode, err := parseMode(e.Mode)
		if err != nil {
			return "", fmt.Errorf("write tree: %w", err)
		}
		h, ok := parseHash(e.SHA)
		if !ok {
			return "", fmt.Errorf("write tree: entry %q: %q is not a SHA", e.Name, e.SHA)
		}
		gitEntries = append(gitEntries, object.TreeEntry{Name: e.Name, Mode: mode, Hash: h})
	}
	h, err := r.obj.writeTree(gitEntries)
	if err != nil {
		return "", fmt.Errorf("write tree: %w", err)
	}
	return h.String(), nil
}

// WriteCommit stores a commit and returns its SHA (git commit-tree).
func (r *Repo) WriteCommit(c CommitObject) (string, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, err := r.obj.writeCommit(c)
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	return h.String(), nil
}

// WriteObject stores a raw object of kind "blob", "tree", "commit" or "tag"
// as `git cat-file <kind> <sha>` prints it, and returns its SHA. It is the
// exact way to copy a history made with the git binary.
func (r *Repo) WriteObject(kind string, content []byte) (string, error) {
	t, err := plumbing.ParseObjectType(kind)
	if err != nil || t == plumbing.OFSDeltaObject || t == plumbing.REFDeltaObject {
		return "", fmt.Errorf("write object: unknown kind %q", kind)
	}
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, err := r.obj.put(t, content)
	if err != nil {
		return "", fmt.Errorf("write object: %w", err)
	}
	return h.String(), nil
}

// SetRef points ref ("main", "refs/heads/main", "tags/v1") at sha, as if it
// had always been there: no webhook, and a later Push reports only what
// moves after this. An empty sha deletes the ref.
func (r *Repo) SetRef(ref, sha string) error {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	name := fullRef(ref)
	if sha == "" {
		delete(r.refs, name)
		delete(r.announced, name)
		return nil
	}
	h, ok := parseHash(sha)
	if !ok {
		return fmt.Errorf("set ref %s: %q is not a SHA", name, sha)
	}
	if _, err := r.obj.kind(h); err != nil {
		return fmt.Errorf("set ref %s: %w", name, err)
	}
	r.refs[name] = h
	r.announced[name] = h
	return nil
}

// Ref returns the SHA ref points at ("main", "refs/heads/main", "tags/v1").
func (r *Repo) Ref(ref string) (string, bool) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, ok := r.refs[fullRef(ref)]
	if !ok {
		return "", false
	}
	return h.String(), true
}

// Refs returns every ref and its SHA.
func (r *Repo) Refs() map[string]string {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	out := map[string]string{}
	for name, h := range r.refs {
		out[name] = h.String()
	}
	return out
}

// Person is a commit author or committer, optionally tied to a GitHub
// account (Login) as GitHub ties commits to accounts by email.
type Person struct {
	Name  string
	Email string
	Login string
	Date  time.Time // zero: the fake's clock
}

// File is the new content of a path in a CommitSpec.
type File struct {
	Content string
	Mode    string // default "100644"; "120000" makes Content a symlink target
	SHA     string // for a gitlink (160000): the submodule commit; Content is then ignored
}

// CommitSpec describes a commit that changes some paths of its parent.
type CommitSpec struct {
	Message   string
	Author    Person
	Committer *Person // nil: the author
	// Files maps paths to their new content; a nil *File deletes the path.
	Files map[string]*File
}

// Commit creates a commit on top of branch's tip (or the first commit of the
// branch when it does not exist) and moves the branch to it. It sends no
// webhook: Push does.
func (r *Repo) Commit(branch string, spec CommitSpec) (string, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, err := r.commitLocked(fullRef(branch), spec)
	if err != nil {
		return "", fmt.Errorf("commit on %s: %w", branch, err)
	}
	return h.String(), nil
}

func (r *Repo) commitLocked(ref string, spec CommitSpec) (plumbing.Hash, error) {
	baseTree := plumbing.ZeroHash
	var parents []string
	if tip, ok := r.refs[ref]; ok {
		c, err := r.obj.commit(tip)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		baseTree = c.TreeHash
		parents = []string{tip.String()}
	}
	paths := make([]string, 0, len(spec.Files))
	for p := range spec.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var changes []treeChange
	for _, p := range paths {
		f := spec.Files[p]
		if f == nil {
			changes = append(changes, treeChange{path: p, delete: true})
			continue
		}
		modeStr := f.Mode
		if modeStr == "" {
			modeStr = "100644"
		}
		mode, err := parseMode(modeStr)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("file %s: %w", p, err)
		}
		var h plumbing.Hash
		switch mode {
		case filemode.Submodule:
			var ok bool
			if h, ok = parseHash(f.SHA); !ok {
				return plumbing.ZeroHash, fmt.Errorf("file %s: gitlink needs a commit SHA", p)
			}
		case filemode.Dir:
			return plumbing.ZeroHash, fmt.Errorf("file %s: a file cannot have mode 040000", p)
		default:
			var err error
			if h, err = r.obj.put(plumbing.BlobObject, []byte(f.Content)); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		changes = append(changes, treeChange{path: p, mode: mode, hash: h})
	}
	tree, err := r.obj.applyChanges(baseTree, changes)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tree.IsZero() {
		if tree, err = r.obj.emptyTree(); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	author := r.signatureLocked(spec.Author)
	committer := author
	if spec.Committer != nil {
		committer = r.signatureLocked(*spec.Committer)
	}
	h, err := r.obj.writeCommit(CommitObject{
		Tree: tree.String(), Parents: parents, Author: author, Committer: committer, Message: spec.Message,
	})
	if err != nil {
		return plumbing.ZeroHash, err
	}
	r.refs[ref] = h
	return h, nil
}

// signatureLocked fills a Person's defaults and remembers which account its
// email belongs to.
func (r *Repo) signatureLocked(p Person) Signature {
	if p.Name == "" {
		p.Name = p.Login
	}
	if p.Email == "" && p.Login != "" {
		p.Email = p.Login + "@users.noreply.github.com"
	}
	if p.Login != "" {
		r.gh.userLocked(p.Login)
		r.gh.loginByEmail[strings.ToLower(p.Email)] = p.Login
	}
	when := p.Date
	if when.IsZero() {
		when = r.gh.now()
	}
	return Signature{Name: p.Name, Email: p.Email, When: when}
}

// resolveLocked turns a revision into a commit: a full SHA, a ref
// ("refs/heads/x", "heads/x", "tags/x"), a branch or tag name, or an
// unambiguous abbreviated SHA of at least 7 hex digits. Annotated tags are
// peeled.
func (r *Repo) resolveLocked(rev string) (plumbing.Hash, error) {
	if h, ok := parseHash(rev); ok {
		if _, err := r.obj.kind(h); err == nil {
			return r.peelLocked(h)
		}
		return plumbing.ZeroHash, fmt.Errorf("revision %s: %w", rev, errNotFound)
	}
	candidates := []string{rev, "refs/" + rev, "refs/heads/" + rev, "refs/tags/" + rev}
	for _, name := range candidates {
		if h, ok := r.refs[name]; ok {
			return r.peelLocked(h)
		}
	}
	if len(rev) >= 7 && len(rev) < 40 && isHex(rev) {
		var match plumbing.Hash
		n := 0
		_ = r.obj.store.ForEachObjectHash(func(h plumbing.Hash) error {
			if strings.HasPrefix(h.String(), strings.ToLower(rev)) {
				match = h
				n++
			}
			return nil
		})
		if n == 1 {
			return r.peelLocked(match)
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("revision %s: %w", rev, errNotFound)
}

// peelLocked follows annotated tags to the commit they name.
func (r *Repo) peelLocked(h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		t, err := r.obj.kind(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch t {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			obj, err := r.obj.store.EncodedObject(plumbing.TagObject, h)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("tag %s: %w", h, errNotFound)
			}
			tag, err := object.DecodeTag(r.obj.store, obj)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("decode tag %s: %w", h, err)
			}
			h = tag.Target
		default:
			return plumbing.ZeroHash, fmt.Errorf("%s is a %s, not a commit: %w", h, t, errNotFound)
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("tag chain at %s: %w", h, errNotFound)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ReadFile returns the content of the file at p in revision rev (a SHA,
// branch or tag).
func (r *Repo) ReadFile(rev, p string) (string, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	b, err := r.readFileLocked(rev, p)
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", p, rev, err)
	}
	return string(b), nil
}

func (r *Repo) readFileLocked(rev, p string) ([]byte, error) {
	c, err := r.resolveLocked(rev)
	if err != nil {
		return nil, err
	}
	commit, err := r.obj.commit(c)
	if err != nil {
		return nil, err
	}
	e, err := r.obj.lookup(commit.TreeHash, p)
	if err != nil {
		return nil, err
	}
	if e.Mode == filemode.Dir || e.Mode == filemode.Submodule {
		return nil, fmt.Errorf("%s is not a file: %w", p, errNotFound)
	}
	return r.obj.blob(e.Hash)
}

// markSigned records a commit that GitHub created and signed itself.
func (r *Repo) markSigned(h plumbing.Hash) { r.signed[h] = true }

func (r *Repo) signedByGitHub(h plumbing.Hash) bool { return r.signed[h] }

// ReadBlob returns the content of a blob.
func (r *Repo) ReadBlob(sha string) ([]byte, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, ok := parseHash(sha)
	if !ok {
		return nil, fmt.Errorf("read blob: %q is not a SHA", sha)
	}
	b, err := r.obj.blob(h)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	return b, nil
}

// ReadTree returns every file of revision rev (recursively) keyed by path;
// a gitlink's File carries its SHA and no content.
func (r *Repo) ReadTree(rev string) (map[string]File, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	c, err := r.resolveLocked(rev)
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", rev, err)
	}
	commit, err := r.obj.commit(c)
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", rev, err)
	}
	flat, err := r.obj.flatten(commit.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", rev, err)
	}
	out := make(map[string]File, len(flat))
	for p, e := range flat {
		f := File{Mode: modeString(e.mode), SHA: e.hash.String()}
		if e.mode != filemode.Submodule {
			b, err := r.obj.blob(e.hash)
			if err != nil {
				return nil, fmt.Errorf("read tree of %s: %s: %w", rev, p, err)
			}
			f.Content = string(b)
		}
		out[path.Clean(p)] = f
	}
	return out, nil
}

// ChangedPaths lists, sorted, the paths whose content or mode differs
// between revisions a and b.
func (r *Repo) ChangedPaths(a, b string) ([]string, error) {
	ta, err := r.ReadTree(a)
	if err != nil {
		return nil, err
	}
	tb, err := r.ReadTree(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for p, f := range ta {
		if g, ok := tb[p]; !ok || g != f {
			out = append(out, p)
		}
	}
	for p := range tb {
		if _, ok := ta[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CommitInfo returns the parsed commit named by rev.
func (r *Repo) CommitInfo(rev string) (CommitObject, error) {
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	h, err := r.resolveLocked(rev)
	if err != nil {
		return CommitObject{}, fmt.Errorf("commit %s: %w", rev, err)
	}
	c, err := r.obj.commit(h)
	if err != nil {
		return CommitObject{}, fmt.Errorf("commit %s: %w", rev, err)
	}
	out := CommitObject{
		Tree:      c.TreeHash.String(),
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out, nil
}

// SetPermission gives login a repository role (read, triage, write,
// maintain or admin); "" or "none" makes them a non-collaborator.
func (r *Repo) SetPermission(login, role string) {
	switch role {
	case "", "none", "read", "triage", "write", "maintain", "admin":
	default:
		panic(fmt.Sprintf("fakegithub: SetPermission %s: unknown role %q", login, role))
	}
	r.gh.mu.Lock()
	defer r.gh.mu.Unlock()
	r.gh.userLocked(login)
	if role == "" || role == "none" {
		delete(r.roles, strings.ToLower(login))
		return
	}
	r.roles[strings.ToLower(login)] = role
}
