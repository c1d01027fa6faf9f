package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/internal/panics"
)

// Metric names of the redelivery sweeper.
const (
	metricSweeps             = "redelivery.sweeps"
	metricSweepErrors        = "redelivery.sweep_errors"
	metricRedeliveries       = "redelivery.requested"
	metricRedeliveryFailures = "redelivery.request_errors"
	metricRedeliveryGiveUps  = "redelivery.exhausted"
)

// redeliveryConcurrency bounds the redelivery requests of a sweep in flight
// at once.
const redeliveryConcurrency = 8

// sweepOverlap is how far before the previous sweep's start the next one
// looks again: a delivery still being answered when a sweep read the log
// appears there only once it is done, and GitHub waits at most 10 seconds.
const sweepOverlap = time.Minute

// maxSweepPages bounds the pages of the delivery log one sweep reads.
const maxSweepPages = 50

// sweeper asks GitHub to redeliver the deliveries that have no successful
// attempt: GitHub never retries a failed delivery by itself, so without it a
// delivery answered 503 in a burst, or sent while the App was down, is lost.
//
// It is safe with several replicas sweeping at once: each sweep starts at a
// random offset in its interval, a delivery is redelivered only while its
// newest attempt failed and no replica has redelivered it since, and the
// handlers are idempotent (an existing check run, branch or pull request is
// found and reused), so the rare duplicate redelivery converges on the same
// result.
type sweeper struct {
	client   *github.Client // authenticated as the App
	cfg      RedeliveryConfig
	registry metrics.Registry
	logger   zerolog.Logger

	mu sync.Mutex
	// since is where the next sweep stops reading the log (zero: MaxAge).
	since time.Time
	// asked maps a GUID to the attempt this process redelivered, so that
	// one failed attempt is redelivered once.
	asked map[string]int64
	// handedBack holds GUIDs answered 202 whose queued handling failed:
	// their attempt looks successful in GitHub's log.
	handedBack map[string]time.Time
	now        func() time.Time
}

func newSweeper(client *github.Client, cfg RedeliveryConfig, registry metrics.Registry, logger zerolog.Logger) *sweeper {
	return &sweeper{
		client: client, cfg: cfg, registry: registry,
		logger:     logger.With().Str(logkey.Component, "redelivery").Logger(),
		asked:      map[string]int64{},
		handedBack: map[string]time.Time{},
		now:        time.Now,
	}
}

// run sweeps at once and then every interval (each time at a random offset
// of up to a tenth of it, so that replicas spread out) until ctx is done.
func (s *sweeper) run(ctx context.Context) {
	for {
		if _, err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error().Err(err).Msg("Redelivery sweep failed")
		}
		jitter := time.Duration(rand.Int64N(int64(s.cfg.Interval/10) + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.Interval + jitter):
		}
	}
}

// handBack marks a delivery acknowledged with 202 whose handling failed, so
// that the next sweep redelivers it although GitHub recorded it as
// successful.
func (s *sweeper) handBack(guid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handedBack[guid] = s.now()
}

// guidState is what the log says of one delivery GUID.
type guidState struct {
	guid        string
	newest      *github.HookDelivery
	succeeded   bool
	redelivered int // redelivery attempts in the log
}

// sweep reads the log back to where the last sweep started (less the
// overlap) and asks for the redeliveries; it returns how many it asked for.
func (s *sweeper) sweep(ctx context.Context) (asked int, err error) {
	defer panics.Recover(ctx, "redelivery sweep", &err)
	start := s.now()
	s.mu.Lock()
	floor := s.since.Add(-sweepOverlap)
	if s.since.IsZero() {
		floor = start.Add(-s.cfg.MaxAge)
	}
	s.mu.Unlock()
	metrics.GetOrRegisterCounter(metricSweeps, s.registry).Inc(1)

	client := s.client
	byGUID := map[string]*guidState{}
	opts := &github.ListCursorOptions{PerPage: 100}
	for page := 0; page < maxSweepPages; page++ {
		list, resp, err := client.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			metrics.GetOrRegisterCounter(metricSweepErrors, s.registry).Inc(1)
			return 0, fmt.Errorf("list webhook deliveries: %w", err)
		}
		done := false
		for _, d := range list {
			if d.GetDeliveredAt().Time.Before(floor) {
				done = true
				break
			}
			st := byGUID[d.GetGUID()]
			if st == nil {
				st = &guidState{guid: d.GetGUID()}
				byGUID[d.GetGUID()] = st
			}
			if st.newest == nil || d.GetID() > st.newest.GetID() {
				st.newest = d
			}
			if code := d.GetStatusCode(); code >= 200 && code < 300 {
				st.succeeded = true
			}
			if d.GetRedelivery() {
				st.redelivered++
			}
		}
		if done || resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}

	s.mu.Lock()
	var todo []*guidState
	for _, st := range byGUID {
		_, handedBack := s.handedBack[st.guid]
		if st.succeeded && !handedBack {
			continue
		}
		if handedBack && st.newest.GetRedelivery() && !st.newest.GetDeliveredAt().Time.Before(s.handedBack[st.guid].Truncate(time.Second)) {
			// Redelivered since it was handed back; its outcome is its own.
			delete(s.handedBack, st.guid)
			if st.succeeded {
				continue
			}
		}
		if s.asked[st.guid] == st.newest.GetID() {
			continue
		}
		if code := st.newest.GetStatusCode(); code >= 400 && code < 500 && !handedBack {
			// Refused as bad input (a wrong signature, a malformed
			// payload): a redelivery would be refused the same way.
			continue
		}
		if st.redelivered >= s.cfg.MaxAttempts {
			if s.asked[st.guid] != -st.newest.GetID() {
				s.asked[st.guid] = -st.newest.GetID()
				metrics.GetOrRegisterCounter(metricRedeliveryGiveUps, s.registry).Inc(1)
				s.logger.Error().Str(githubapp.LogKeyDeliveryID, st.guid).Str(githubapp.LogKeyEventType, st.newest.GetEvent()).
					Int("redeliveries", st.redelivered).Msg("Delivery still failing after the last redelivery; redeliver it from the App's settings once the cause is fixed")
			}
			continue
		}
		todo = append(todo, st)
	}
	s.mu.Unlock()
	// Oldest first: the order GitHub sent them in.
	sort.Slice(todo, func(i, j int) bool { return todo[i].newest.GetID() < todo[j].newest.GetID() })
	if len(todo) > s.cfg.MaxPerSweep {
		todo = todo[:s.cfg.MaxPerSweep]
	}

	var (
		errs    []error
		errMu   sync.Mutex
		workers sync.WaitGroup
		next    = make(chan *guidState)
	)
	// A few at once: each request takes a round trip, and a sweep after a
	// burst may have hundreds to ask for.
	for range redeliveryConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for st := range next {
				err := s.redeliver(ctx, client, st)
				errMu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					asked++
				}
				errMu.Unlock()
			}
		}()
	}
	for _, st := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- st
	}
	close(next)
	workers.Wait()

	s.mu.Lock()
	s.since = start
	// Forget what no sweep will read again.
	for guid, t := range s.handedBack {
		if t.Before(start.Add(-s.cfg.MaxAge)) {
			delete(s.handedBack, guid)
		}
	}
	if len(s.asked) > 100_000 {
		s.asked = map[string]int64{}
	}
	s.mu.Unlock()
	if len(errs) > 0 {
		return asked, errors.Join(errs...)
	}
	return asked, nil
}

// redeliver asks GitHub for one redelivery of st's newest attempt.
func (s *sweeper) redeliver(ctx context.Context, client *github.Client, st *guidState) (err error) {
	defer panics.Recover(ctx, "redeliver "+st.guid, &err)
	_, _, err = client.Apps.RedeliverHookDelivery(ctx, st.newest.GetID())
	var accepted *github.AcceptedError
	if err != nil && !errors.As(err, &accepted) {
		metrics.GetOrRegisterCounter(metricRedeliveryFailures, s.registry).Inc(1)
		return fmt.Errorf("redeliver %s: %w", st.guid, err)
	}
	metrics.GetOrRegisterCounter(metricRedeliveries, s.registry).Inc(1)
	s.mu.Lock()
	s.asked[st.guid] = st.newest.GetID()
	s.mu.Unlock()
	s.logger.Info().Str(githubapp.LogKeyDeliveryID, st.guid).Str(githubapp.LogKeyEventType, st.newest.GetEvent()).
		Int("status_code", st.newest.GetStatusCode()).Msg("Asked GitHub to redeliver a failed delivery")
	return nil
}
