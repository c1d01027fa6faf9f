package githubapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v57/github"
	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// historyConcurrency bounds the commit reads of a history search.
const historyConcurrency = 4

var _ rollback.History = (*Repo)(nil)

// CommitsAfter lists, newest first, the commits reachable from head that
// changed any of paths (any file when paths is empty) and come after since
// (every commit when since is ""), with their files; at most limit.
func (r *Repo) CommitsAfter(ctx context.Context, head, since string, paths []string, limit int) ([]*rollback.Commit, error) {
	// Each path's listing is in history order, newest first; several paths
	// are merged by that order, not by date, because commits made in the
	// same second (as automation makes them) have equal dates.
	var lists [][]string
	dates := map[string]time.Time{}
	scan := func(path string) error {
		var list []string
		defer func() { lists = append(lists, list) }()
		opts := &github.CommitsListOptions{SHA: head, Path: path, ListOptions: github.ListOptions{PerPage: 100}}
		for len(list) < limit {
			page, resp, err := r.client.Repositories.ListCommits(ctx, r.owner, r.name, opts)
			if err != nil {
				return fmt.Errorf("list commits of %s: %w", head, err)
			}
			for _, c := range page {
				if c.GetSHA() == since || len(list) == limit {
					return nil
				}
				list = append(list, c.GetSHA())
				dates[c.GetSHA()] = c.GetCommit().GetCommitter().GetDate().Time
			}
			if resp.NextPage == 0 {
				return nil
			}
			opts.Page = resp.NextPage
		}
		return nil
	}
	if len(paths) == 0 {
		paths = []string{""}
	}
	for _, p := range paths {
		if err := scan(p); err != nil {
			return nil, err
		}
	}
	shas := mergeHistoryOrder(lists, dates)
	if len(shas) > limit {
		shas = shas[:limit]
	}

	commits := make([]*rollback.Commit, len(shas))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(historyConcurrency)
	for i, sha := range shas {
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "read commit "+sha, &err)
			c, err := r.Commit(gctx, sha)
			commits[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return commits, nil
}

// mergeHistoryOrder merges lists that are each newest first into one list
// consistent with all of them (a topological order of "comes before in some
// list"), breaking ties by date, newest first.
func mergeHistoryOrder(lists [][]string, dates map[string]time.Time) []string {
	after := map[string][]string{} // sha -> the shas listed right after it
	pending := map[string]int{}    // sha -> how many listed right before it
	for _, list := range lists {
		for i, sha := range list {
			if _, ok := pending[sha]; !ok {
				pending[sha] = 0
			}
			if i > 0 && !slices.Contains(after[list[i-1]], sha) {
				after[list[i-1]] = append(after[list[i-1]], sha)
				pending[sha]++
			}
		}
	}
	var ready, out []string
	for sha, n := range pending {
		if n == 0 {
			ready = append(ready, sha)
		}
	}
	for len(ready) > 0 {
		slices.SortFunc(ready, func(a, b string) int {
			if c := dates[b].Compare(dates[a]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		next := ready[0]
		ready = ready[1:]
		out = append(out, next)
		for _, sha := range after[next] {
			if pending[sha]--; pending[sha] == 0 {
				ready = append(ready, sha)
			}
		}
	}
	return out
}
