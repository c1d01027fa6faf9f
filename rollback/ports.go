package rollback

import (
	"context"
	"errors"

	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
)

// Commit is what a rollback needs to know about the commit it undoes.
type Commit struct {
	release.Commit
	Parents []string
	Tree    string
	URL     string // the commit's page, for links in the pull request
	Date    string // committer date, RFC 3339
}

// Head is the tip of the branch the rollback is applied on.
type Head struct {
	SHA  string
	Tree string
	// Contains reports whether the commit being rolled back is an ancestor of
	// (or equal to) the head.
	Contains bool
}

// Repository reads what a rollback is computed from.
type Repository interface {
	revert.Reader
	// Commit returns a commit with the files it changed.
	Commit(ctx context.Context, sha string) (*Commit, error)
	// Head returns the tip of branch and whether commit is on it.
	Head(ctx context.Context, branch, commit string) (*Head, error)
	// CommitTree returns the SHA of a commit's root tree.
	CommitTree(ctx context.Context, sha string) (string, error)
}

// Permissions tells what a user may do in the repository.
type Permissions interface {
	// Role returns the user's role_name in the repository ("read", "write",
	// "maintain", "admin", ...; "none" when the user has no access).
	Role(ctx context.Context, user string) (string, error)
}

// Writer writes git objects and branches.
type Writer interface {
	// CreateTree creates a tree from base with changes applied and returns its SHA.
	CreateTree(ctx context.Context, base string, changes []revert.Change) (string, error)
	// CreateCommit creates a commit with no explicit author, so the host signs it.
	CreateCommit(ctx context.Context, message, tree string, parents []string) (string, error)
	// CreateBranch points a new branch at sha; ErrBranchExists when it exists.
	CreateBranch(ctx context.Context, name, sha string) error
	// BranchCommit returns the head commit of an existing branch.
	BranchCommit(ctx context.Context, name string) (*Commit, error)
}

// PullRequests opens and finds pull requests.
type PullRequests interface {
	// Open opens a pull request; ErrPullRequestExists when one is already open
	// for the head branch, ErrNoDifference when head and base do not differ.
	Open(ctx context.Context, pr NewPullRequest) (*PullRequest, error)
	// FindOpen returns the open pull request from head into base, or nil.
	FindOpen(ctx context.Context, head, base string) (*PullRequest, error)
	// Decorate requests reviewers and then adds labels on a pull request.
	Decorate(ctx context.Context, number int, labels, reviewers, teamReviewers []string) error
}

// NewPullRequest describes a pull request to open.
type NewPullRequest struct {
	Title, Body string
	Head, Base  string
	Draft       bool
}

// PullRequest is an opened pull request.
type PullRequest struct {
	Number int
	URL    string
	// Labels, Reviewers and TeamReviewers are what FindOpen found on it:
	// its labels and its pending review requests.
	Labels, Reviewers, TeamReviewers []string
	// Merged is set by PastPullRequests.AnyFrom for a merged pull request.
	Merged bool
}

var (
	// ErrBranchExists is returned by Writer.CreateBranch.
	ErrBranchExists = errors.New("branch already exists")
	// ErrPullRequestExists is returned by PullRequests.Open.
	ErrPullRequestExists = errors.New("a pull request already exists for the branch")
	// ErrNoDifference is returned by PullRequests.Open when the branch holds
	// nothing the base does not (the rollback was merged already).
	ErrNoDifference = errors.New("no commits between base and head")
	// ErrNotFound is returned by readers for an unknown commit or branch.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous is returned by readers for an abbreviated SHA that names
	// more than one commit.
	ErrAmbiguous = errors.New("abbreviated SHA is ambiguous")
)
