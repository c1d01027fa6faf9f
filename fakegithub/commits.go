package fakegithub

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/google/go-github/v57/github"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// The commits, compare, branches and contents APIs.

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// fileChange is one path that differs between two trees.
type fileChange struct {
	path     string
	prevPath string // the path before a rename, "" for others
	from, to *flatEntry
}

// renameScore is git's default rename threshold (diff.renames, -M): the
// smallest similarity, in percent, for which a removed and an added file
// are paired as a rename.
const renameScore = 50

// diffTreesWithRenames is diffTrees with git's rename detection, as GitHub
// lists the files of a commit or comparison: a removed file and an added
// one that are similar enough become one "renamed" change.
//
// The pairs come from go-git's rename detection, which scores similarity as
// JGit does (hashed lines, with 1% of the score from the names) rather than
// as git does (hashed 64-byte chunks): the two agree on exact renames and
// on clearly similar or dissimilar files, and may disagree near the 50%
// threshold.
func (o objects) diffTreesWithRenames(from, to plumbing.Hash) ([]fileChange, error) {
	changes, err := o.diffTrees(from, to)
	if err != nil {
		return nil, err
	}
	renames, err := o.renames(from, to)
	if err != nil || len(renames) == 0 {
		return changes, err
	}
	byPath := make(map[string]fileChange, len(changes))
	for _, fc := range changes {
		byPath[fc.path] = fc
	}
	out := changes[:0]
	for _, fc := range changes {
		switch {
		case fc.to == nil && renames[fc.path] != "":
			// Reported at the new path.
		case fc.from == nil && renamedFrom(renames, fc.path) != "":
			old := renamedFrom(renames, fc.path)
			out = append(out, fileChange{path: fc.path, prevPath: old, from: byPath[old].from, to: fc.to})
		default:
			out = append(out, fc)
		}
	}
	return out, nil
}

func renamedFrom(renames map[string]string, to string) string {
	for old, now := range renames {
		if now == to {
			return old
		}
	}
	return ""
}

// renames returns old path -> new path for the files go-git's rename
// detection pairs between two trees, at git's default threshold.
func (o objects) renames(from, to plumbing.Hash) (map[string]string, error) {
	a, err := o.tree(from)
	if err != nil {
		return nil, err
	}
	b, err := o.tree(to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), a, b, &object.DiffTreeOptions{DetectRenames: true, RenameScore: renameScore})
	if err != nil {
		return nil, fmt.Errorf("detect renames between trees %s and %s: %w", from, to, err)
	}
	renames := make(map[string]string)
	for _, c := range changes {
		if c.From.Name != "" && c.To.Name != "" && c.From.Name != c.To.Name {
			renames[c.From.Name] = c.To.Name
		}
	}
	return renames, nil
}

// diffTrees lists the paths that differ between two trees, sorted. Renames
// are reported as a removal and an addition.
func (o objects) diffTrees(from, to plumbing.Hash) ([]fileChange, error) {
	a, err := o.flatten(from)
	if err != nil {
		return nil, err
	}
	b, err := o.flatten(to)
	if err != nil {
		return nil, err
	}
	var out []fileChange
	for p, ea := range a {
		ea := ea
		eb, ok := b[p]
		switch {
		case !ok:
			out = append(out, fileChange{path: p, from: &ea})
		case ea != eb:
			eb := eb
			out = append(out, fileChange{path: p, from: &ea, to: &eb})
		}
	}
	for p, eb := range b {
		if _, ok := a[p]; !ok {
			eb := eb
			out = append(out, fileChange{path: p, to: &eb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// Patches are computed by go-git's line diff and printed by its unified
// encoder; these small types feed the encoder one file at a time.
type patchFile struct {
	hash plumbing.Hash
	mode filemode.FileMode
	path string
}

func (f patchFile) Hash() plumbing.Hash     { return f.hash }
func (f patchFile) Mode() filemode.FileMode { return f.mode }
func (f patchFile) Path() string            { return f.path }

type patchChunk struct {
	content string
	op      fdiff.Operation
}

func (c patchChunk) Content() string              { return c.content }
func (c patchChunk) Type() fdiff.Operation        { return c.op }
func (p onePatch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p onePatch) Message() string                { return "" }

type filePatch struct {
	from, to fdiff.File
	chunks   []fdiff.Chunk
}

func (p filePatch) IsBinary() bool                  { return false }
func (p filePatch) Files() (fdiff.File, fdiff.File) { return p.from, p.to }
func (p filePatch) Chunks() []fdiff.Chunk           { return p.chunks }

type onePatch struct{ fp fdiff.FilePatch }

// filePatchText returns GitHub's "patch" for one file: the unified diff
// hunks without the diff --git/index/---/+++ header, and the counts of added
// and deleted lines. ok is false for binary files and gitlinks, for which
// GitHub shows no patch.
func (o objects) filePatchText(fc fileChange) (patch string, additions, deletions int, ok bool) {
	content := func(e *flatEntry) ([]byte, bool) {
		if e == nil {
			return nil, true
		}
		if e.mode == filemode.Submodule {
			return nil, false
		}
		b, err := o.blob(e.hash)
		if err != nil || isBinary(b) {
			return nil, false
		}
		return b, true
	}
	before, okA := content(fc.from)
	after, okB := content(fc.to)
	if !okA || !okB {
		return "", 0, 0, false
	}
	var chunks []fdiff.Chunk
	for _, d := range diff.Do(string(before), string(after)) {
		op := fdiff.Equal
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = fdiff.Add
		case diffmatchpatch.DiffDelete:
			op = fdiff.Delete
		}
		chunks = append(chunks, patchChunk{content: d.Text, op: op})
	}
	fp := filePatch{chunks: chunks}
	if fc.from != nil {
		fp.from = patchFile{hash: fc.from.hash, mode: fc.from.mode, path: fc.path}
	}
	if fc.to != nil {
		fp.to = patchFile{hash: fc.to.hash, mode: fc.to.mode, path: fc.path}
	}
	var buf bytes.Buffer
	if err := fdiff.NewUnifiedEncoder(&buf, fdiff.DefaultContextLines).Encode(onePatch{fp}); err != nil {
		return "", 0, 0, false
	}
	text := buf.String()
	if i := strings.Index(text, "@@"); i >= 0 {
		text = text[i:]
	} else {
		text = ""
	}
	text = strings.TrimSuffix(text, "\n")
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "+"):
			additions++
		case strings.HasPrefix(line, "-"):
			deletions++
		}
	}
	return text, additions, deletions, true
}

// filesJSON renders the files[] of a commit or comparison.
func (c *call) filesJSON(changes []fileChange, headSHA string) []*github.CommitFile {
	out := []*github.CommitFile{}
	for _, fc := range changes {
		f := &github.CommitFile{Filename: ptr(fc.path)}
		switch {
		case fc.prevPath != "":
			f.Status = ptr("renamed")
			f.PreviousFilename = ptr(fc.prevPath)
			f.SHA = ptr(fc.to.hash.String())
		case fc.from == nil:
			f.Status = ptr("added")
			f.SHA = ptr(fc.to.hash.String())
		case fc.to == nil:
			f.Status = ptr("removed")
			f.SHA = ptr(fc.from.hash.String())
		case fc.from.hash == fc.to.hash:
			f.Status = ptr("changed") // only the mode changed
			f.SHA = ptr(fc.to.hash.String())
		default:
			f.Status = ptr("modified")
			f.SHA = ptr(fc.to.hash.String())
		}
		patch, adds, dels, ok := c.repo.obj.filePatchText(fc)
		f.Additions, f.Deletions, f.Changes = ptr(adds), ptr(dels), ptr(adds+dels)
		if ok && patch != "" {
			f.Patch = ptr(patch)
		}
		blobURL := c.g.opts.WebURL + "/" + c.repo.fullName() + "/blob/" + headSHA + "/" + fc.path
		f.BlobURL = ptr(blobURL)
		f.RawURL = ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/raw/" + headSHA + "/" + fc.path)
		f.ContentsURL = ptr(c.repoAPI() + "/contents/" + fc.path + "?ref=" + headSHA)
		out = append(out, f)
	}
	return out
}

// accountFor returns the GitHub account an email belongs to, as GitHub links
// commit authors to users.
func (c *call) accountFor(email string) *github.User {
	login, ok := c.g.loginByEmail[strings.ToLower(email)]
	if !ok {
		return nil
	}
	return c.g.userJSON(c.g.userLocked(login), c.apiURL())
}

// repoCommitJSON renders a commit as the commits API does; withFiles adds
// stats and files against the first parent.
func (c *call) repoCommitJSON(commit *object.Commit, withFiles bool) (*github.RepositoryCommit, error) {
	sha := commit.Hash.String()
	api := c.repoAPI()
	inner := c.gitCommitJSON(commit)
	inner.SHA, inner.NodeID, inner.HTMLURL, inner.Parents = nil, nil, nil, nil
	inner.CommentCount = ptr(c.repo.commentCountLocked(sha))
	parents := []*github.Commit{}
	for _, p := range commit.ParentHashes {
		parents = append(parents, &github.Commit{
			SHA:     ptr(p.String()),
			URL:     ptr(api + "/commits/" + p.String()),
			HTMLURL: ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/commit/" + p.String()),
		})
	}
	out := &github.RepositoryCommit{
		SHA:         ptr(sha),
		NodeID:      inner.NodeID,
		Commit:      inner,
		Author:      c.accountFor(commit.Author.Email),
		Committer:   c.accountFor(commit.Committer.Email),
		Parents:     parents,
		URL:         ptr(api + "/commits/" + sha),
		HTMLURL:     ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/commit/" + sha),
		CommentsURL: ptr(api + "/commits/" + sha + "/comments"),
	}
	if c.repo.signedByGitHub(commit.Hash) {
		out.Committer = c.g.userJSON(c.g.userLocked("web-flow"), c.apiURL())
	}
	if !withFiles {
		return out, nil
	}
	parentTree := plumbing.ZeroHash
	if len(commit.ParentHashes) > 0 {
		p, err := c.repo.obj.commit(commit.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		parentTree = p.TreeHash
	}
	changes, err := c.repo.obj.diffTreesWithRenames(parentTree, commit.TreeHash)
	if err != nil {
		return nil, err
	}
	out.Files = c.filesJSON(changes, sha)
	adds, dels := 0, 0
	for _, f := range out.Files {
		adds += f.GetAdditions()
		dels += f.GetDeletions()
	}
	out.Stats = &github.CommitStats{Additions: ptr(adds), Deletions: ptr(dels), Total: ptr(adds + dels)}
	return out, nil
}

// revParam resolves a revision from the URL, answering 404 or 422 like
// GitHub when it names nothing.
func (c *call) resolveRev(rev string) (*object.Commit, bool) {
	if len(c.repo.refs) == 0 {
		c.fail(http.StatusConflict, "Git Repository is empty.")
		return nil, false
	}
	h, err := c.repo.resolveLocked(rev)
	if err != nil {
		c.unprocessable("No commit found for SHA: " + rev)
		return nil, false
	}
	commit, err := c.repo.obj.commit(h)
	if err != nil {
		c.failErr(err)
		return nil, false
	}
	return commit, true
}

func (g *GitHub) getCommit(c *call) {
	commit, ok := c.resolveRev(c.param("ref"))
	if !ok {
		return
	}
	if c.wantsMedia("sha") {
		c.raw([]byte(commit.Hash.String()))
		return
	}
	out, err := c.repoCommitJSON(commit, true)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, out)
}

func (g *GitHub) getBranch(c *call) {
	name := c.param("branch")
	h, ok := c.repo.refs["refs/heads/"+name]
	if !ok {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	commit, err := c.repo.obj.commit(h)
	if err != nil {
		c.failErr(err)
		return
	}
	rc, err := c.repoCommitJSON(commit, false)
	if err != nil {
		c.failErr(err)
		return
	}
	c.json(http.StatusOK, struct {
		*github.Branch
		Links map[string]string `json:"_links"`
	}{&github.Branch{Name: ptr(name), Commit: rc, Protected: ptr(false)}, map[string]string{
		"self": c.repoAPI() + "/branches/" + name,
		"html": c.g.opts.WebURL + "/" + c.repo.fullName() + "/tree/" + name,
	}})
}

// touches reports whether commit changed path (a file or a directory)
// compared with each of its parents, as `git log -- path` decides.
func (o objects) touches(commit *object.Commit, p string) bool {
	entryAt := func(tree plumbing.Hash) object.TreeEntry {
		e, err := o.lookup(tree, p)
		if err != nil {
			return object.TreeEntry{}
		}
		return e
	}
	mine := entryAt(commit.TreeHash)
	if len(commit.ParentHashes) == 0 {
		return !mine.Hash.IsZero()
	}
	for _, ph := range commit.ParentHashes {
		parent, err := o.commit(ph)
		if err != nil {
			return true
		}
		theirs := entryAt(parent.TreeHash)
		if theirs.Hash == mine.Hash && theirs.Mode == mine.Mode {
			return false
		}
	}
	return true
}

func (g *GitHub) listCommits(c *call) {
	q := c.r.URL.Query()
	rev := q.Get("sha")
	if rev == "" {
		rev = c.repo.defaultBranch
	}
	start, ok := c.resolveRev(rev)
	if !ok {
		return
	}
	filter := strings.Trim(q.Get("path"), "/")
	var commits []*object.Commit
	err := c.repo.obj.walkCommits([]plumbing.Hash{start.Hash}, nil, func(commit *object.Commit) bool {
		if filter == "" || c.repo.obj.touches(commit, filter) {
			commits = append(commits, commit)
		}
		return true
	})
	if err != nil {
		c.failErr(err)
		return
	}
	out := []*github.RepositoryCommit{}
	for _, commit := range paginate(c, commits) {
		rc, err := c.repoCommitJSON(commit, false)
		if err != nil {
			c.failErr(err)
			return
		}
		out = append(out, rc)
	}
	c.json(http.StatusOK, out)
}

// maxCompareFiles is the most files GitHub lists in a comparison; the
// rest are left out, without pagination.
const maxCompareFiles = 300

func (g *GitHub) compare(c *call) {
	basehead := c.param("basehead")
	base, head, ok := strings.Cut(basehead, "...")
	if !ok {
		base, head, ok = strings.Cut(basehead, "..")
	}
	if !ok || base == "" || head == "" {
		c.notFound()
		return
	}
	baseCommit, ok := c.resolveRev(base)
	if !ok {
		return
	}
	headCommit, ok := c.resolveRev(head)
	if !ok {
		return
	}
	mb := c.repo.obj.mergeBase(baseCommit.Hash, headCommit.Hash)
	if mb.IsZero() {
		c.fail(http.StatusNotFound, "No common ancestor between "+base+" and "+head+".")
		return
	}
	mergeBase, err := c.repo.obj.commit(mb)
	if err != nil {
		c.failErr(err)
		return
	}
	var ahead []*object.Commit
	_ = c.repo.obj.walkCommits([]plumbing.Hash{headCommit.Hash}, []plumbing.Hash{baseCommit.Hash}, func(cm *object.Commit) bool {
		ahead = append(ahead, cm)
		return true
	})
	behind := 0
	_ = c.repo.obj.walkCommits([]plumbing.Hash{baseCommit.Hash}, []plumbing.Hash{headCommit.Hash}, func(*object.Commit) bool {
		behind++
		return true
	})
	status := "identical"
	switch {
	case len(ahead) > 0 && behind > 0:
		status = "diverged"
	case len(ahead) > 0:
		status = "ahead"
	case behind > 0:
		status = "behind"
	}
	// The commits of a comparison are listed oldest first.
	commits := []*github.RepositoryCommit{}
	for i := len(ahead) - 1; i >= 0 && len(commits) < 250; i-- {
		rc, err := c.repoCommitJSON(ahead[i], false)
		if err != nil {
			c.failErr(err)
			return
		}
		commits = append(commits, rc)
	}
	changes, err := c.repo.obj.diffTreesWithRenames(mergeBase.TreeHash, headCommit.TreeHash)
	if err != nil {
		c.failErr(err)
		return
	}
	if len(changes) > maxCompareFiles {
		changes = changes[:maxCompareFiles]
	}
	baseJSON, err := c.repoCommitJSON(baseCommit, false)
	if err != nil {
		c.failErr(err)
		return
	}
	mbJSON, err := c.repoCommitJSON(mergeBase, false)
	if err != nil {
		c.failErr(err)
		return
	}
	web := c.g.opts.WebURL + "/" + c.repo.fullName() + "/compare/" + basehead
	c.json(http.StatusOK, &github.CommitsComparison{
		BaseCommit:      baseJSON,
		MergeBaseCommit: mbJSON,
		Status:          ptr(status),
		AheadBy:         ptr(len(ahead)),
		BehindBy:        ptr(behind),
		TotalCommits:    ptr(len(ahead)),
		Commits:         commits,
		Files:           c.filesJSON(changes, headCommit.Hash.String()),
		HTMLURL:         ptr(web),
		PermalinkURL:    ptr(web),
		DiffURL:         ptr(web + ".diff"),
		PatchURL:        ptr(web + ".patch"),
		URL:             ptr(c.repoAPI() + "/compare/" + basehead),
	})
}

// maxInlineContent is the largest file whose content the contents API
// returns inline; larger ones come with encoding "none" and must be fetched
// through download_url.
const maxInlineContent = 1 << 20

// contentJSON renders one entry of the contents API. withContent includes
// the base64 content of files (single-file responses only).
func (c *call) contentJSON(commitSHA, p string, e object.TreeEntry, withContent bool) (*github.RepositoryContent, error) {
	api := c.repoAPI()
	sha := e.Hash.String()
	out := &github.RepositoryContent{
		Name:    ptr(path.Base(p)),
		Path:    ptr(p),
		SHA:     ptr(sha),
		URL:     ptr(api + "/contents/" + p + "?ref=" + commitSHA),
		HTMLURL: ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/blob/" + commitSHA + "/" + p),
	}
	switch e.Mode {
	case filemode.Dir:
		out.Type = ptr("dir")
		out.Size = ptr(0)
		out.GitURL = ptr(api + "/git/trees/" + sha)
		out.HTMLURL = ptr(c.g.opts.WebURL + "/" + c.repo.fullName() + "/tree/" + commitSHA + "/" + p)
		return out, nil
	case filemode.Submodule:
		out.Type = ptr("submodule")
		out.Size = ptr(0)
		out.SubmoduleGitURL = ptr("")
		return out, nil
	}
	b, err := c.repo.obj.blob(e.Hash)
	if err != nil {
		return nil, err
	}
	out.Type = ptr("file")
	if e.Mode == filemode.Symlink {
		out.Type = ptr("symlink")
		out.Target = ptr(string(b))
	}
	out.Size = ptr(len(b))
	out.GitURL = ptr(api + "/git/blobs/" + sha)
	out.DownloadURL = ptr(c.apiURL() + "/raw/" + c.repo.fullName() + "/" + commitSHA + "/" + p)
	if withContent {
		if len(b) > maxInlineContent {
			out.Encoding = ptr("none")
			out.Content = ptr("")
		} else {
			out.Encoding = ptr("base64")
			out.Content = ptr(base64Lines(b))
		}
	}
	return out, nil
}

func (g *GitHub) getContents(c *call) {
	p := strings.Trim(c.param("path"), "/")
	rev := c.r.URL.Query().Get("ref")
	if rev == "" {
		rev = c.repo.defaultBranch
	}
	if len(c.repo.refs) == 0 {
		c.fail(http.StatusNotFound, "This repository is empty.")
		return
	}
	h, err := c.repo.resolveLocked(rev)
	if err != nil {
		c.fail(http.StatusNotFound, "No commit found for the ref "+rev)
		return
	}
	commit, err := c.repo.obj.commit(h)
	if err != nil {
		c.failErr(err)
		return
	}
	e, err := c.repo.obj.lookup(commit.TreeHash, p)
	if err != nil {
		c.failErr(err)
		return
	}
	sha := commit.Hash.String()
	if e.Mode == filemode.Symlink {
		// GitHub answers with the target file when the link points at a
		// regular file of the repository.
		if target, ok := c.symlinkTarget(commit.TreeHash, p, e); ok {
			out, err := c.contentJSON(sha, target.path, target.entry, true)
			if err != nil {
				c.failErr(err)
				return
			}
			c.json(http.StatusOK, out)
			return
		}
	}
	if e.Mode != filemode.Dir {
		out, err := c.contentJSON(sha, p, e, true)
		if err != nil {
			c.failErr(err)
			return
		}
		c.json(http.StatusOK, out)
		return
	}
	t, err := c.repo.obj.tree(e.Hash)
	if err != nil {
		c.failErr(err)
		return
	}
	list := []*github.RepositoryContent{}
	for _, child := range t.Entries {
		out, err := c.contentJSON(sha, path.Join(p, child.Name), child, false)
		if err != nil {
			c.failErr(err)
			return
		}
		list = append(list, out)
	}
	c.json(http.StatusOK, list)
}

type resolvedEntry struct {
	path  string
	entry object.TreeEntry
}

// symlinkTarget follows a symlink inside the repository to a regular file.
func (c *call) symlinkTarget(root plumbing.Hash, p string, e object.TreeEntry) (resolvedEntry, bool) {
	b, err := c.repo.obj.blob(e.Hash)
	if err != nil {
		return resolvedEntry{}, false
	}
	target := string(b)
	if strings.HasPrefix(target, "/") {
		return resolvedEntry{}, false
	}
	full := path.Join(path.Dir(p), target)
	if full == ".." || strings.HasPrefix(full, "../") {
		return resolvedEntry{}, false
	}
	te, err := c.repo.obj.lookup(root, full)
	if err != nil || !te.Mode.IsFile() || te.Mode == filemode.Symlink {
		return resolvedEntry{}, false
	}
	return resolvedEntry{path: full, entry: te}, true
}

// serveRaw serves download_url links: the bytes of a file at a commit.
func (g *GitHub) serveRaw(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	repo := g.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	if repo == nil {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	content, err := repo.readFileLocked(r.PathValue("sha"), r.PathValue("path"))
	if err != nil {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(content)))
	_, _ = w.Write(content)
}
