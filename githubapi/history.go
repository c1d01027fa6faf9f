package githubapi

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-github/v57/github"
	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/rollback"
)

// historyConcurrency bounds the commit reads of a history search.
const historyConcurrency = 4

var _ rollback.History = (*Repo)(nil)

// CommitsAfter lists, newest first, the commits reachable from head that
// changed any of paths (any file when paths is empty) and come after since
// (every commit when since is ""), with their files; at most limit.
func (r *Repo) CommitsAfter(ctx context.Context, head, since string, paths []string, limit int) ([]*rollback.Commit, error) {
	var shas []string
	var dates = map[string]time.Time{}
	scan := func(path string) error {
		opts := &github.CommitsListOptions{SHA: head, Path: path, ListOptions: github.ListOptions{PerPage: 100}}
		for len(shas) < limit {
			page, resp, err := r.client.Repositories.ListCommits(ctx, r.owner, r.name, opts)
			if err != nil {
				return fmt.Errorf("list commits of %s: %w", head, err)
			}
			for _, c := range page {
				if c.GetSHA() == since {
					return nil
				}
				if !slices.Contains(shas, c.GetSHA()) && len(shas) < limit {
					shas = append(shas, c.GetSHA())
					dates[c.GetSHA()] = c.GetCommit().GetCommitter().GetDate().Time
				}
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
	// Several paths interleave: order newest first again.
	slices.SortStableFunc(shas, func(a, b string) int { return dates[b].Compare(dates[a]) })

	commits := make([]*rollback.Commit, len(shas))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(historyConcurrency)
	for i, sha := range shas {
		g.Go(func() error {
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
