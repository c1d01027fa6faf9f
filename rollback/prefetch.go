package rollback

import (
	"context"

	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/revert"
)

// Prefetch starts at once, before the caller knows its configuration, the
// three reads every rollback of commit on branch begins with: the
// requester's role, the commit, and the branch head. They need nothing from
// each other nor from the configuration, so a click spends one round trip
// on all of them, alongside whatever the caller reads meanwhile.
//
// The returned Service answers exactly those reads from the results and
// passes every other call to s's ports; use it for one request. The reads
// go on with ctx until stop, which ends those still running and waits for
// them, so that every request is finished before the event is answered
// (a read the request did not need is cut short, not left running). Their
// goroutines recover from a panic and report it as the read's error.
func (s *Service) Prefetch(ctx context.Context, requester, commit, branch string) (svc *Service, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetched{
		Repository:  s.Repo,
		Permissions: s.Permissions,
		user:        requester, sha: commit, branch: branch,
		role:   goRead(ctx, "read the role of "+requester, func() (string, error) { return s.Permissions.Role(ctx, requester) }),
		commit: goRead(ctx, "read commit "+commit, func() (*Commit, error) { return s.Repo.Commit(ctx, commit) }),
		head:   goRead(ctx, "read branch "+branch, func() (*Head, error) { return s.Repo.Head(ctx, branch, commit) }),
	}
	out := *s
	out.Repo, out.Permissions = p, p
	return &out, func() {
		cancel()
		<-p.role.done
		<-p.commit.done
		<-p.head.done
	}
}

// WithRole returns a Service that answers user's role with role, read
// already by the caller (a comment's author is checked before anything is
// written), instead of reading it again; other users' roles are read
// through s's port. Use it for one request.
func (s *Service) WithRole(user, role string) *Service {
	out := *s
	out.Permissions = knownRole{Permissions: s.Permissions, user: user, role: role}
	return &out
}

// knownRole answers one user's role from what was read already.
type knownRole struct {
	Permissions
	user, role string
}

func (k knownRole) Role(ctx context.Context, user string) (string, error) {
	if user == k.user {
		return k.role, nil
	}
	return k.Permissions.Role(ctx, user)
}

// prefetched answers the reads Prefetch started.
type prefetched struct {
	Repository
	Permissions
	user, sha, branch string
	role              *read[string]
	commit            *read[*Commit]
	head              *read[*Head]
}

func (p *prefetched) Role(ctx context.Context, user string) (string, error) {
	if user == p.user {
		return p.role.wait(ctx)
	}
	return p.Permissions.Role(ctx, user)
}

func (p *prefetched) Commit(ctx context.Context, sha string) (*Commit, error) {
	if sha == p.sha {
		return p.commit.wait(ctx)
	}
	return p.Repository.Commit(ctx, sha)
}

func (p *prefetched) Head(ctx context.Context, branch, commit string) (*Head, error) {
	if branch == p.branch && commit == p.sha {
		return p.head.wait(ctx)
	}
	return p.Repository.Head(ctx, branch, commit)
}

// RenamedSince keeps the revert engine's optional question about renames
// answered by the repository that can answer it; one that cannot leaves the
// answer unknown, as if the question were not asked.
func (p *prefetched) RenamedSince(ctx context.Context, base, head string) (map[string]string, bool, error) {
	if r, ok := p.Repository.(revert.Renames); ok {
		return r.RenamedSince(ctx, base, head)
	}
	return nil, false, nil
}

var _ revert.Renames = (*prefetched)(nil)

// read is the result of one read running in its own goroutine.
type read[T any] struct {
	done  chan struct{}
	value T
	err   error
}

// goRead runs f in a goroutine. A panic in f becomes its error (a
// *panics.Error, logged and counted) instead of ending the process: a
// rollback fails visibly, the server goes on.
func goRead[T any](ctx context.Context, what string, f func() (T, error)) *read[T] {
	r := &read[T]{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer panics.Recover(ctx, what, &r.err)
		r.value, r.err = f()
	}()
	return r
}

// wait returns the read's result, or ctx's error if ctx ends first.
func (r *read[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-r.done:
		return r.value, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
