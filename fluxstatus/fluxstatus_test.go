package fluxstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// history is a branch, newest commit first, with the latest statuses of
// each commit; it counts what is read.
type history struct {
	commits     []string
	statuses    map[string][]Status
	listErr     error
	statusReads []string
}

func (h *history) BranchCommits(_ context.Context, branch string, limit int) ([]string, error) {
	if h.listErr != nil {
		return nil, h.listErr
	}
	return h.commits[:min(limit, len(h.commits))], nil
}

func (h *history) LatestStatuses(_ context.Context, sha string) ([]Status, error) {
	h.statusReads = append(h.statusReads, sha)
	return h.statuses[sha], nil
}

const (
	apps  = "kustomization/apps/1a2b3c4d"
	infra = "kustomization/apps/9f8e7d6c" // the same Kustomization in a second cluster
	ci    = "ci/build"
)

func fail(context string) Status {
	return Status{Context: context, State: "failure", Description: "health check failed"}
}
func pass(context string) Status {
	return Status{Context: context, State: "success", Description: "reconciliation succeeded"}
}

// branch builds a history of n commits c0 (head) .. c<n-1>.
func branch(n int, statuses map[int][]Status) *history {
	h := &history{statuses: map[string][]Status{}}
	for i := range n {
		h.commits = append(h.commits, fmt.Sprintf("c%d", i))
	}
	for i, s := range statuses {
		h.statuses[h.commits[i]] = s
	}
	return h
}

func acceptsFlux(c string) bool { return strings.HasPrefix(c, "kustomization/") }

// summary renders an assessment as "sha:failing contexts" per commit.
func summary(a *Assessment) string {
	var parts []string
	for _, v := range a.Commits {
		var failing []string
		for _, c := range v.Failing() {
			failing = append(failing, c.Latest.Context[len("kustomization/apps/"):])
		}
		parts = append(parts, v.SHA+":"+strings.Join(failing, "+"))
	}
	return strings.Join(parts, " ")
}

func TestAssess(t *testing.T) {
	tests := map[string]struct {
		h         *history
		ev        Status
		want      string // commits and their failing contexts
		wantReads int
		wantCut   bool
	}{
		"failure on the head blames it back to the last success": {
			h:    branch(5, map[int][]Status{0: {fail(apps)}, 2: {pass(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d c1:1a2b3c4d", wantReads: 3,
		},
		"failure on a later commit blames the commits before it": {
			h:    branch(5, map[int][]Status{0: {fail(apps)}, 1: {}, 3: {pass(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d c1:1a2b3c4d c2:1a2b3c4d", wantReads: 4,
		},
		"a success on the reported commit clears": {
			h:    branch(4, map[int][]Status{0: {pass(apps)}, 1: {fail(apps)}, 3: {pass(apps)}}),
			ev:   Status{Context: apps, State: "success", Commit: "c0"},
			want: "c0: c1: c2:", wantReads: 4,
		},
		"a success after a failure on the same commit clears it": {
			h:    branch(3, map[int][]Status{0: {pass(apps)}, 1: {pass(apps)}}),
			ev:   Status{Context: apps, State: "success", Commit: "c0"},
			want: "c0:", wantReads: 2,
		},
		"a success on a later commit outweighs an older failure delivered late": {
			h:    branch(4, map[int][]Status{0: {pass(apps)}, 1: {fail(apps)}, 3: {pass(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c1"},
			want: "c1: c2:", wantReads: 4,
		},
		"two clusters, one failing": {
			h:    branch(3, map[int][]Status{0: {fail(apps), pass(infra)}, 1: {pass(apps), pass(infra)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d", wantReads: 2,
		},
		"both clusters failing": {
			h:    branch(3, map[int][]Status{0: {fail(apps), fail(infra)}, 1: {pass(apps), pass(infra)}}),
			ev:   Status{Context: infra, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d+9f8e7d6c", wantReads: 2,
		},
		"other contexts neither blame nor clear": {
			h:    branch(3, map[int][]Status{0: {fail(apps), pass(ci)}, 1: {fail(ci)}, 2: {pass(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d c1:1a2b3c4d", wantReads: 3,
		},
		"pending is neither": {
			h:    branch(3, map[int][]Status{0: {{Context: apps, State: "pending"}}, 1: {fail(apps)}, 2: {pass(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c1"},
			want: "c1:1a2b3c4d", wantReads: 3,
		},
		"no success within reach: the blame stops at the bound": {
			h:         branch(MaxCommits+5, map[int][]Status{0: {fail(apps)}}),
			ev:        Status{Context: apps, State: "failure", Commit: "c0"},
			wantReads: MaxCommits, wantCut: true,
		},
		"a short history with no success is not cut": {
			h:    branch(2, map[int][]Status{0: {fail(apps)}}),
			ev:   Status{Context: apps, State: "failure", Commit: "c0"},
			want: "c0:1a2b3c4d c1:1a2b3c4d", wantReads: 2,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Assess(context.Background(), tt.h, "main", tt.ev, acceptsFlux)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCut {
				if !got.Cut || len(got.Commits) != MaxCommits || len(got.Commits[MaxCommits-1].Failing()) != 1 {
					t.Fatalf("cut = %v, %d commits: %s", got.Cut, len(got.Commits), summary(got))
				}
			} else if s := summary(got); s != tt.want || got.Cut {
				t.Errorf("Assess() = %q (cut %v), want %q", s, got.Cut, tt.want)
			}
			if len(tt.h.statusReads) != tt.wantReads || got.StatusReads != tt.wantReads {
				t.Errorf("read the statuses of %v (counted %d), want %d commits", tt.h.statusReads, got.StatusReads, tt.wantReads)
			}
		})
	}
}

// TestAssessLatestState checks what the check run shows for each context:
// its newest status at or after the commit, and its first failure since.
func TestAssessLatestState(t *testing.T) {
	first, latest := fail(apps), fail(apps)
	first.Description, latest.Description = "health check failed", "reconciliation failed"
	h := branch(4, map[int][]Status{0: {latest, pass(infra)}, 2: {first, pass(infra)}, 3: {pass(apps)}})
	got, err := Assess(context.Background(), h, "main", Status{Context: apps, State: "failure", Commit: "c0"}, acceptsFlux)
	if err != nil {
		t.Fatal(err)
	}
	c2 := got.Commits[2]
	if c2.SHA != "c2" || len(c2.Contexts) != 2 {
		t.Fatalf("c2 = %+v", c2)
	}
	a, b := c2.Contexts[0], c2.Contexts[1]
	if !a.Failing || a.Latest.Description != "reconciliation failed" || a.Latest.Commit != "c0" ||
		a.FirstFailure.Description != "health check failed" || a.FirstFailure.Commit != "c2" {
		t.Errorf("apps = %+v", a)
	}
	if b.Failing || !b.Latest.Succeeded() || b.Latest.Commit != "c0" || b.FirstFailure != (Status{}) {
		t.Errorf("infra = %+v", b)
	}
}

func TestAssessOutOfReach(t *testing.T) {
	h := branch(MaxCommits+1, nil)
	_, err := Assess(context.Background(), h, "main", Status{Context: apps, State: "failure", Commit: h.commits[MaxCommits]}, acceptsFlux)
	if !errors.Is(err, ErrOutOfReach) || len(h.statusReads) != 0 {
		t.Fatalf("err = %v after reading %v", err, h.statusReads)
	}
	h = branch(3, nil)
	h.listErr = errors.New("boom")
	if _, err := Assess(context.Background(), h, "main", Status{Context: apps, Commit: "c0"}, acceptsFlux); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if slices.Contains(h.statusReads, "c0") {
		t.Fatal("read statuses after the list failed")
	}
}
