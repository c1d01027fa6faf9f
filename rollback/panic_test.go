package rollback_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/revert"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// panickyRepo panics in the read the rollback makes concurrently with
// reading the branch head.
type panickyRepo struct{ headReads int }

func (*panickyRepo) Commit(context.Context, string) (*rollback.Commit, error) {
	panic("corrupt commit")
}
func (r *panickyRepo) Head(context.Context, string, string) (*rollback.Head, error) {
	r.headReads++
	return &rollback.Head{SHA: "h", Tree: "t", Contains: true}, nil
}
func (*panickyRepo) Dir(context.Context, string, string) (map[string]revert.Entry, error) {
	return nil, nil
}
func (*panickyRepo) Blob(context.Context, string) ([]byte, error) { return nil, nil }
func (*panickyRepo) CommitTree(context.Context, string) (string, error) {
	return "", errors.New("not read")
}

type writer struct{}

func (writer) Role(context.Context, string) (string, error) { return "admin", nil }

// A panic in a concurrent read fails the rollback with an error; the
// process, and the other events in flight, live on.
func TestPanicInAConcurrentReadFailsOnlyItsRollback(t *testing.T) {
	before := panics.Count()
	repo := &panickyRepo{}
	svc := &rollback.Service{Repo: repo, Permissions: writer{}}
	_, err := svc.Revert(context.Background(), rollback.Request{
		Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main", Requester: "alice",
		Config: repoconfig.DefaultConfig(),
	})
	var pe *panics.Error
	if !errors.As(err, &pe) || pe.Value != "corrupt commit" {
		t.Fatalf("error = %v, want the recovered panic", err)
	}
	if repo.headReads != 1 {
		t.Errorf("head read %d times, want 1", repo.headReads)
	}
	if got := panics.Count() - before; got != 1 {
		t.Errorf("%d panics counted, want 1", got)
	}
}
