package rollback

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/repoconfig"
)

// pastPulls is a PastPullRequests with pull requests by head branch.
type pastPulls struct {
	byHead map[string]*PullRequest
	err    error
	asked  []string
}

func (p *pastPulls) AnyFrom(_ context.Context, head, base string) (*PullRequest, error) {
	p.asked = append(p.asked, head+"->"+base)
	return p.byHead[head], p.err
}

// roles is a Permissions with a role per login; it counts what it is asked.
type roles struct {
	of    map[string]string
	asked []string
}

func (r *roles) Role(_ context.Context, user string) (string, error) {
	r.asked = append(r.asked, user)
	if role, ok := r.of[user]; ok {
		return role, nil
	}
	return "read", nil // what GitHub answers for anyone on a public repository
}

func TestRevertOnFailureSkipsAReleaseRolledBackBefore(t *testing.T) {
	const sha = "abc1234def5678abc1234def5678abc1234def56"
	tests := map[string]struct {
		past    *pastPulls
		wantErr string
		asked   int
	}{
		"a rollback pull request": {&pastPulls{byHead: map[string]*PullRequest{"rollback-abc1234": {Number: 3}}}, "#3 from rollback-abc1234", 1},
		"a restore pull request":  {&pastPulls{byHead: map[string]*PullRequest{"rollback-abc1234-restore": {Number: 5}}}, "#5 from rollback-abc1234-restore", 2},
		"GitHub failing":          {&pastPulls{err: errors.New("502")}, "find earlier rollbacks from rollback-abc1234: 502", 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			// A Service without ports: reaching any of them would panic.
			svc := &Service{}
			req := Request{Commit: sha, Branch: "main", Requester: "flux-rollback[bot]", Config: repoconfig.DefaultConfig()}
			_, err := svc.RevertOnFailure(context.Background(), req, tt.past)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.past.err == nil && !errors.Is(err, ErrRolledBackBefore) {
				t.Errorf("err = %v, want ErrRolledBackBefore", err)
			}
			if len(tt.past.asked) != tt.asked || tt.past.asked[0] != "rollback-abc1234->main" {
				t.Errorf("asked %v", tt.past.asked)
			}
		})
	}
}

func TestReviewersOfAnAutomaticRollback(t *testing.T) {
	commit := &Commit{Commit: release.Commit{
		Author:    release.Identity{Login: "fluxcdbot"},
		Committer: release.Identity{Login: "web-flow"},
	}}
	tests := map[string]struct {
		automatic bool
		roles     map[string]string
		config    []string
		want      []string
		asked     int
	}{
		"a click asks only the configured": {false, map[string]string{"fluxcdbot": "write"}, []string{"octocat"}, []string{"octocat"}, 0},
		"a committer who can write":        {true, map[string]string{"fluxcdbot": "write"}, []string{"octocat"}, []string{"octocat", "fluxcdbot"}, 2},
		"read only is not a collaborator":  {true, map[string]string{}, nil, nil, 2},
		"already configured":               {true, map[string]string{"fluxcdbot": "admin"}, []string{"FluxCDBot"}, []string{"FluxCDBot"}, 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			perms := &roles{of: tt.roles}
			svc := &Service{Permissions: perms}
			cfg := repoconfig.DefaultConfig()
			cfg.PullRequest.Reviewers = tt.config
			got, err := svc.reviewers(context.Background(), Request{Config: cfg, Requester: "flux-rollback[bot]", automatic: tt.automatic}, commit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || len(perms.asked) != tt.asked {
				t.Errorf("reviewers = %v after asking %v, want %v after %d", got, perms.asked, tt.want, tt.asked)
			}
		})
	}
}

func TestCauseQuote(t *testing.T) {
	got := causeQuote(Request{Cause: "**Flux reports** x\n\nsecond\n"})
	if want := "> **Flux reports** x\n>\n> second\n\n"; got != want {
		t.Errorf("causeQuote = %q, want %q", got, want)
	}
	if causeQuote(Request{}) != "" {
		t.Error("a click's pull request quotes a cause")
	}
}
