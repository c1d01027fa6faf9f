// Package githubapi implements the domain packages' interfaces with
// go-github: it is the only place that knows GitHub's REST routes.
package githubapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// maxCompareFiles is the most files GitHub lists in a comparison; a longer
// list is cut without notice.
const maxCompareFiles = 300

// maxCommitFilePages bounds the pages of a commit's file list (300 files a
// page; GitHub lists at most 3,000 files of one commit).
const maxCommitFilePages = 10

// Repo is one repository seen through one installation's client.
type Repo struct {
	client      *github.Client
	owner, name string
}

var (
	_ rollback.Repository   = (*Repo)(nil)
	_ rollback.Permissions  = (*Repo)(nil)
	_ rollback.Writer       = (*Repo)(nil)
	_ rollback.PullRequests = (*Repo)(nil)
	_ revert.Renames        = (*Repo)(nil)
	_ release.FileReader    = (*Repo)(nil)
)

// NewRepo adapts the repository owner/name.
func NewRepo(client *github.Client, owner, name string) *Repo {
	return &Repo{client: client, owner: owner, name: name}
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.owner + "/" + r.name }

// isStatus reports whether err is a GitHub API error with that HTTP status.
func isStatus(err error, status int) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == status
}

// hasMessage reports whether err is a GitHub API error whose message or any
// of its detailed errors contains text.
func hasMessage(err error, text string) bool {
	var e *github.ErrorResponse
	if !errors.As(err, &e) {
		return false
	}
	if strings.Contains(e.Message, text) {
		return true
	}
	for _, d := range e.Errors {
		if strings.Contains(d.Message, text) {
			return true
		}
	}
	return false
}

// Dir lists one directory of a commit through the tree-ish form
// "<commit>:<dir>", which GitHub resolves in a single request whatever the
// depth, so that reading a file's directory never walks the tree from its root.
func (r *Repo) Dir(ctx context.Context, commit, dir string) (map[string]revert.Entry, error) {
	treeish := commit
	if dir != "" {
		treeish = commit + ":" + escapePath(dir)
	}
	tree, _, err := r.client.Git.GetTree(ExpectNotFound(ctx), r.owner, r.name, treeish, false)
	if err != nil {
		if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusUnprocessableEntity) {
			return map[string]revert.Entry{}, nil
		}
		return nil, fmt.Errorf("read tree %s: %w", treeish, err)
	}
	entries := make(map[string]revert.Entry, len(tree.Entries))
	for _, e := range tree.Entries {
		entries[e.GetPath()] = revert.Entry{Mode: normalMode(e.GetMode()), SHA: e.GetSHA()}
	}
	return entries, nil
}

// escapePath escapes each element of a repository path for a URL: go-github
// puts the tree-ish into the URL as it is, where "#", "?" or "%" in a
// directory name would otherwise cut or break the request.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		parts[i] = url.PathEscape(part)
	}
	return strings.Join(parts, "/")
}

// normalMode writes tree modes as git does: GitHub answers "040000" for
// trees where git's own notation is "40000"; the engine compares strings.
func normalMode(mode string) string {
	if mode == "40000" {
		return "040000"
	}
	return mode
}

// Blob returns a blob's content.
func (r *Repo) Blob(ctx context.Context, sha string) ([]byte, error) {
	blob, _, err := r.client.Git.GetBlob(ctx, r.owner, r.name, sha)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", sha, err)
	}
	if blob.GetEncoding() != "base64" {
		return []byte(blob.GetContent()), nil
	}
	content, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(blob.GetContent(), "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("decode blob %s: %w", sha, err)
	}
	return content, nil
}

// FileAt returns the content of path in commit through the contents API:
// one request for a file of up to 1 MB, whose content comes with the
// answer; a larger one is read as a blob.
func (r *Repo) FileAt(ctx context.Context, commit, path string) ([]byte, error) {
	file, _, _, err := r.client.Repositories.GetContents(ctx, r.owner, r.name, path, &github.RepositoryContentGetOptions{Ref: commit})
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", path, commit, err)
	}
	if file == nil {
		return nil, fmt.Errorf("read %s in %s: a directory, not a file", path, commit)
	}
	if file.GetEncoding() == "none" || (file.Content == nil && file.GetSize() > 0) {
		return r.Blob(ctx, file.GetSHA())
	}
	content, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s in %s: %w", path, commit, err)
	}
	return []byte(content), nil
}

// Commit returns a commit with every file it changed.
func (r *Repo) Commit(ctx context.Context, sha string) (*rollback.Commit, error) {
	opts := &github.ListOptions{PerPage: 300}
	var c *github.RepositoryCommit
	for page := 1; page <= maxCommitFilePages; page++ {
		opts.Page = page
		got, resp, err := r.client.Repositories.GetCommit(ctx, r.owner, r.name, sha, opts)
		if err != nil {
			if isStatus(err, http.StatusUnprocessableEntity) && hasMessage(err, "ambiguous") {
				return nil, fmt.Errorf("commit %s: %w", sha, rollback.ErrAmbiguous)
			}
			if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusUnprocessableEntity) {
				return nil, fmt.Errorf("commit %s: %w", sha, rollback.ErrNotFound)
			}
			return nil, fmt.Errorf("read commit %s: %w", sha, err)
		}
		if c == nil {
			c = got
		} else {
			c.Files = append(c.Files, got.Files...)
		}
		if resp.NextPage == 0 {
			break
		}
	}
	return convertCommit(c), nil
}

// convertCommit maps GitHub's commit onto the domain's.
func convertCommit(c *github.RepositoryCommit) *rollback.Commit {
	out := &rollback.Commit{
		Commit: release.Commit{
			SHA:         c.GetSHA(),
			Message:     c.GetCommit().GetMessage(),
			Author:      identity(c.GetCommit().GetAuthor(), c.GetAuthor()),
			Committer:   identity(c.GetCommit().GetCommitter(), c.GetCommitter()),
			ParentCount: len(c.Parents),
		},
		Tree: c.GetCommit().GetTree().GetSHA(),
		URL:  c.GetHTMLURL(),
		Date: c.GetCommit().GetCommitter().GetDate().Format(time.RFC3339),
	}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	if len(out.Parents) > 0 {
		out.Commit.Parent = out.Parents[0]
	}
	for _, f := range c.Files {
		out.Files = append(out.Files, release.File{
			Path:         f.GetFilename(),
			PreviousPath: f.GetPreviousFilename(),
			Status:       f.GetStatus(),
			Patch:        f.GetPatch(),
			SHA:          blobInCommit(f),
		})
	}
	return out
}

// blobInCommit is the file's blob in the commit: GitHub names the removed
// blob for a removed file, which the commit no longer has.
func blobInCommit(f *github.CommitFile) string {
	if f.GetStatus() == "removed" {
		return ""
	}
	return f.GetSHA()
}

func identity(a *github.CommitAuthor, u *github.User) release.Identity {
	return release.Identity{Name: a.GetName(), Email: a.GetEmail(), Login: u.GetLogin()}
}

// Head returns the tip of branch and whether commit is on it, in one compare
// request: with the branch as base and the commit as head, GitHub names the
// branch tip (base_commit) and reports "behind" or "identical" exactly when
// the commit is an ancestor of the tip. The answer lists the commits and
// files between the merge base and the commit: none when it is on the branch.
func (r *Repo) Head(ctx context.Context, branch, commit string) (*rollback.Head, error) {
	cmp, _, err := r.client.Repositories.CompareCommits(ctx, r.owner, r.name, branch, commit, &github.ListOptions{PerPage: 1})
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("compare %s...%s: %w", branch, commit, rollback.ErrNotFound)
		}
		return nil, fmt.Errorf("compare %s...%s: %w", branch, commit, err)
	}
	base := cmp.GetBaseCommit()
	status := cmp.GetStatus()
	return &rollback.Head{
		SHA:      base.GetSHA(),
		Tree:     base.GetCommit().GetTree().GetSHA(),
		Contains: status == "behind" || status == "identical",
	}, nil
}

// RenamedSince returns the files renamed between base and head, as GitHub's
// comparison base...head reports them (status "renamed", with
// previous_filename): for a base on head's branch, the merge base is base
// itself and the files are those of git diff -M base head. complete is
// false when the comparison lists 300 files or more, where GitHub may
// have left some out. The comparison's commits are paged one at a time to
// keep the answer small: the files come on the first page whatever its size.
func (r *Repo) RenamedSince(ctx context.Context, base, head string) (map[string]string, bool, error) {
	cmp, _, err := r.client.Repositories.CompareCommits(ctx, r.owner, r.name, base, head, &github.ListOptions{PerPage: 1})
	if err != nil {
		return nil, false, fmt.Errorf("compare %s...%s: %w", base, head, err)
	}
	renames := make(map[string]string)
	for _, f := range cmp.Files {
		if f.GetStatus() == "renamed" && f.GetPreviousFilename() != "" {
			renames[f.GetPreviousFilename()] = f.GetFilename()
		}
	}
	return renames, len(cmp.Files) < maxCompareFiles, nil
}

// Role returns the user's role_name. go-github v57 does not decode
// role_name, so the response is read into a struct of our own.
func (r *Repo) Role(ctx context.Context, user string) (string, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", r.owner, r.name, user)
	req, err := r.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	var level struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := r.client.Do(ctx, req, &level); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return "none", nil
		}
		return "", fmt.Errorf("read permission of %s: %w", user, err)
	}
	if level.RoleName != "" {
		return level.RoleName, nil
	}
	return level.Permission, nil
}

// CreateTree creates base with changes applied. Merged files travel as
// content in the same request, so no separate blob upload is needed.
//
// Deletions below a path that the same request turns into a file are left
// out: the file's entry replaces the whole directory, and a create-tree that
// applies the file's entry before the nested ones (as the embedded GitHub
// does, and GitHub may) then finds nothing to delete and refuses the tree
// with 422 GitRPC::BadObjectState.
func (r *Repo) CreateTree(ctx context.Context, base string, changes []revert.Change) (string, error) {
	written := make(map[string]bool, len(changes))
	for _, c := range changes {
		if !c.Delete {
			written[c.Path] = true
		}
	}
	entries := make([]*github.TreeEntry, 0, len(changes))
	for _, c := range changes {
		if c.Delete && belowAny(c.Path, written) {
			continue
		}
		e := &github.TreeEntry{Path: github.String(c.Path), Mode: github.String(c.Mode), Type: github.String(entryType(c.Mode))}
		switch {
		case c.Delete:
			e.Mode = github.String("100644")
			e.Type = github.String("blob")
		case c.Content != nil:
			e.Content = github.String(string(c.Content))
		default:
			e.SHA = github.String(c.SHA)
		}
		entries = append(entries, e)
	}
	tree, _, err := r.client.Git.CreateTree(ctx, r.owner, r.name, base, entries)
	if err != nil {
		return "", fmt.Errorf("create tree on %s: %w", base, err)
	}
	return tree.GetSHA(), nil
}

// belowAny reports whether a directory holding p is one of paths.
func belowAny(p string, paths map[string]bool) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if paths[d] {
			return true
		}
	}
	return false
}

func entryType(mode string) string {
	switch mode {
	case "040000", "40000":
		return "tree"
	case "160000":
		return "commit"
	default:
		return "blob"
	}
}

// CreateCommit creates a commit without author or committer so that GitHub
// authors it as the App and marks it Verified.
func (r *Repo) CreateCommit(ctx context.Context, message, tree string, parents []string) (string, error) {
	commit := &github.Commit{Message: github.String(message), Tree: &github.Tree{SHA: github.String(tree)}}
	for _, p := range parents {
		commit.Parents = append(commit.Parents, &github.Commit{SHA: github.String(p)})
	}
	created, _, err := r.client.Git.CreateCommit(ctx, r.owner, r.name, commit, nil)
	if err != nil {
		return "", fmt.Errorf("create commit: %w", err)
	}
	return created.GetSHA(), nil
}

// CreateBranch creates refs/heads/name at sha.
func (r *Repo) CreateBranch(ctx context.Context, name, sha string) error {
	ref := &github.Reference{Ref: github.String("refs/heads/" + name), Object: &github.GitObject{SHA: github.String(sha)}}
	if _, _, err := r.client.Git.CreateRef(ctx, r.owner, r.name, ref); err != nil {
		if isStatus(err, http.StatusUnprocessableEntity) && hasMessage(err, "already exists") {
			return rollback.ErrBranchExists
		}
		return fmt.Errorf("create branch %s: %w", name, err)
	}
	return nil
}

// CommitTree returns the root tree of a commit, from the Git Data API's
// commit object (without the file list the commits API adds).
func (r *Repo) CommitTree(ctx context.Context, sha string) (string, error) {
	c, _, err := r.client.Git.GetCommit(ctx, r.owner, r.name, sha)
	if err != nil {
		return "", fmt.Errorf("read commit %s: %w", sha, err)
	}
	return c.GetTree().GetSHA(), nil
}

// BranchCommit returns the head commit of branch name.
func (r *Repo) BranchCommit(ctx context.Context, name string) (*rollback.Commit, error) {
	ref, _, err := r.client.Git.GetRef(ExpectNotFound(ctx), r.owner, r.name, "heads/"+name)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("branch %s: %w", name, rollback.ErrNotFound)
		}
		return nil, fmt.Errorf("read branch %s: %w", name, err)
	}
	c, _, err := r.client.Git.GetCommit(ctx, r.owner, r.name, ref.GetObject().GetSHA())
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", ref.GetObject().GetSHA(), err)
	}
	out := &rollback.Commit{Commit: release.Commit{SHA: c.GetSHA(), Message: c.GetMessage(), ParentCount: len(c.Parents)}, Tree: c.GetTree().GetSHA()}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	if len(out.Parents) > 0 {
		out.Commit.Parent = out.Parents[0]
	}
	return out, nil
}

// Open opens a pull request.
func (r *Repo) Open(ctx context.Context, pr rollback.NewPullRequest) (*rollback.PullRequest, error) {
	created, _, err := r.client.PullRequests.Create(ctx, r.owner, r.name, &github.NewPullRequest{
		Title: github.String(pr.Title),
		Body:  github.String(fitBody(pr.Body)),
		Head:  github.String(pr.Head),
		Base:  github.String(pr.Base),
		Draft: github.Bool(pr.Draft),
	})
	if err != nil {
		switch {
		case isStatus(err, http.StatusUnprocessableEntity) && hasMessage(err, "already exists"):
			return nil, rollback.ErrPullRequestExists
		case isStatus(err, http.StatusUnprocessableEntity) && hasMessage(err, "No commits between"):
			return nil, rollback.ErrNoDifference
		}
		return nil, fmt.Errorf("open pull request %s -> %s: %w", pr.Head, pr.Base, err)
	}
	return &rollback.PullRequest{Number: created.GetNumber(), URL: created.GetHTMLURL()}, nil
}

// FindOpen returns the open pull request from head into base, or nil.
func (r *Repo) FindOpen(ctx context.Context, head, base string) (*rollback.PullRequest, error) {
	prs, _, err := r.client.PullRequests.List(ctx, r.owner, r.name, &github.PullRequestListOptions{
		State: "open", Head: r.owner + ":" + head, Base: base, ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s: %w", head, err)
	}
	if len(prs) == 0 {
		return nil, nil
	}
	pr := prs[0]
	out := &rollback.PullRequest{Number: pr.GetNumber(), URL: pr.GetHTMLURL()}
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	for _, u := range pr.RequestedReviewers {
		out.Reviewers = append(out.Reviewers, u.GetLogin())
	}
	for _, team := range pr.RequestedTeams {
		out.TeamReviewers = append(out.TeamReviewers, team.GetSlug())
	}
	return out, nil
}

// Decorate requests a pull request's reviewers and then labels it; each is
// one request, made only when configured. The labels come last: a pull
// request with all of them was decorated completely.
func (r *Repo) Decorate(ctx context.Context, number int, labels, reviewers, teamReviewers []string) error {
	if len(reviewers) > 0 || len(teamReviewers) > 0 {
		req := github.ReviewersRequest{Reviewers: reviewers, TeamReviewers: teamReviewers}
		if _, _, err := r.client.PullRequests.RequestReviewers(ctx, r.owner, r.name, number, req); err != nil {
			return fmt.Errorf("request reviewers on #%d: %w", number, err)
		}
	}
	if len(labels) > 0 {
		if _, _, err := r.client.Issues.AddLabelsToIssue(ctx, r.owner, r.name, number, labels); err != nil {
			return fmt.Errorf("add labels to #%d: %w", number, err)
		}
	}
	return nil
}

// Owner is the repository's owner login.
func (r *Repo) Owner() string { return r.owner }

// Name is the repository's name.
func (r *Repo) Name() string { return r.name }
