package rollback_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// readPorts answers the reads a rollback starts with and counts them; a
// read blocks until release is closed, so a test can see that all three
// started before anyone waited for one.
type readPorts struct {
	mu      sync.Mutex
	calls   map[string]int
	started chan string
	release chan struct{}
	panics  bool
}

func newReadPorts() *readPorts {
	return &readPorts{calls: map[string]int{}, started: make(chan string, 16), release: make(chan struct{})}
}

func (p *readPorts) count(what string) {
	p.mu.Lock()
	p.calls[what]++
	p.mu.Unlock()
	p.started <- what
	<-p.release
}

func (p *readPorts) Role(_ context.Context, user string) (string, error) {
	p.count("role " + user)
	if p.panics {
		panic("boom")
	}
	return "write", nil
}

func (p *readPorts) Commit(_ context.Context, sha string) (*rollback.Commit, error) {
	p.count("commit " + sha)
	c := &rollback.Commit{}
	c.SHA = sha
	return c, nil
}

func (p *readPorts) Head(_ context.Context, branch, commit string) (*rollback.Head, error) {
	p.count("head " + branch + " " + commit)
	return &rollback.Head{SHA: "h-" + branch, Contains: true}, nil
}

func (p *readPorts) CommitTree(context.Context, string) (string, error) {
	return "", errors.New("not used")
}
func (p *readPorts) Dir(context.Context, string, string) (map[string]revert.Entry, error) {
	return nil, errors.New("not used")
}
func (p *readPorts) Blob(context.Context, string) ([]byte, error) { return nil, errors.New("not used") }

func TestPrefetch(t *testing.T) {
	cases := map[string]struct {
		read  func(ctx context.Context, s *rollback.Service) (string, error)
		calls map[string]int // every read made, the three prefetched included
	}{
		"the prefetched role": {
			read: func(ctx context.Context, s *rollback.Service) (string, error) {
				return s.Permissions.Role(ctx, "alice")
			},
			calls: map[string]int{"role alice": 1, "commit c1": 1, "head main c1": 1},
		},
		"another user's role is read": {
			read:  func(ctx context.Context, s *rollback.Service) (string, error) { return s.Permissions.Role(ctx, "bob") },
			calls: map[string]int{"role alice": 1, "role bob": 1, "commit c1": 1, "head main c1": 1},
		},
		"the prefetched commit, twice": {
			read: func(ctx context.Context, s *rollback.Service) (string, error) {
				if _, err := s.Repo.Commit(ctx, "c1"); err != nil {
					return "", err
				}
				c, err := s.Repo.Commit(ctx, "c1")
				return c.SHA, err
			},
			calls: map[string]int{"role alice": 1, "commit c1": 1, "head main c1": 1},
		},
		"another branch's head is read": {
			read: func(ctx context.Context, s *rollback.Service) (string, error) {
				h, err := s.Repo.Head(ctx, "staging", "c1")
				return h.SHA, err
			},
			calls: map[string]int{"role alice": 1, "commit c1": 1, "head main c1": 1, "head staging c1": 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ports := newReadPorts()
			svc, stop := (&rollback.Service{Repo: ports, Permissions: ports}).Prefetch(context.Background(), "alice", "c1", "main")
			defer stop()
			// All three reads start before anything waits for them.
			for range 3 {
				<-ports.started
			}
			close(ports.release)
			if _, err := tc.read(context.Background(), svc); err != nil {
				t.Fatal(err)
			}
			ports.mu.Lock()
			defer ports.mu.Unlock()
			if len(ports.calls) != len(tc.calls) {
				t.Errorf("reads %v, want %v", ports.calls, tc.calls)
			}
			for k, n := range tc.calls {
				if ports.calls[k] != n {
					t.Errorf("reads %v, want %v", ports.calls, tc.calls)
				}
			}
		})
	}
}

func TestPrefetchRecoversFromAPanic(t *testing.T) {
	ports := newReadPorts()
	ports.panics = true
	close(ports.release)
	svc, stop := (&rollback.Service{Repo: ports, Permissions: ports}).Prefetch(context.Background(), "alice", "c1", "main")
	defer stop()
	_, err := svc.Permissions.Role(context.Background(), "alice")
	var pe *panics.Error
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Role() = %v, want the recovered panic", err)
	}
}

func TestPrefetchWaitEndsWithTheContext(t *testing.T) {
	ports := newReadPorts() // never released
	svc, stop := (&rollback.Service{Repo: ports, Permissions: ports}).Prefetch(context.Background(), "alice", "c1", "main")
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.Repo.Commit(ctx, "c1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit() = %v, want the context's error", err)
	}
	close(ports.release)
}

func TestWithRoleAnswersTheRoleReadAlready(t *testing.T) {
	ports := newReadPorts()
	close(ports.release)
	svc, stop := (&rollback.Service{Repo: ports, Permissions: ports}).WithRole("alice", "maintain").Prefetch(context.Background(), "alice", "c1", "main")
	defer stop()
	if role, err := svc.Permissions.Role(context.Background(), "alice"); err != nil || role != "maintain" {
		t.Fatalf("Role(alice) = %q, %v; want the role read already", role, err)
	}
	if role, err := svc.Permissions.Role(context.Background(), "bob"); err != nil || role != "write" {
		t.Fatalf("Role(bob) = %q, %v; want the port's answer", role, err)
	}
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.calls["role alice"] != 0 || ports.calls["role bob"] != 1 {
		t.Errorf("reads %v, want bob's role alone read", ports.calls)
	}
}

// blockedPorts answer no read until its context ends, and tell each read
// that ended.
type blockedPorts struct {
	readPorts
	ended chan string
}

func (p *blockedPorts) wait(ctx context.Context, what string) error {
	<-ctx.Done()
	p.ended <- what
	return ctx.Err()
}

func (p *blockedPorts) Role(ctx context.Context, user string) (string, error) {
	return "", p.wait(ctx, "role")
}

func (p *blockedPorts) Commit(ctx context.Context, sha string) (*rollback.Commit, error) {
	return nil, p.wait(ctx, "commit")
}

func (p *blockedPorts) Head(ctx context.Context, branch, commit string) (*rollback.Head, error) {
	return nil, p.wait(ctx, "head")
}

// A request that needs none of the reads (a broken configuration) ends
// them, and no read is left running once stop returns.
func TestPrefetchStopEndsTheReadsAndWaits(t *testing.T) {
	ports := &blockedPorts{ended: make(chan string, 3)}
	_, stop := (&rollback.Service{Repo: ports, Permissions: ports}).Prefetch(context.Background(), "alice", "c1", "main")
	stop()
	if n := len(ports.ended); n != 3 {
		t.Fatalf("%d reads ended when stop returned, want 3", n)
	}
}
