package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/fluxrollback/flux-rollback/internal/panics"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"
)

// Metric names of the scheduler. The first two are go-githubapp's own names
// for the same quantities, so dashboards made for its schedulers still apply.
const (
	metricActiveEvents  = githubapp.MetricsKeyActiveWorkers
	metricDroppedEvents = githubapp.MetricsKeyDroppedEvents
	metricEventDuration = "github.event.duration"
)

// Metric names of the push queue.
const (
	metricQueuedEvents   = "github.event.queued"
	metricQueueFailures  = "github.event.queued_failures"
	metricAbandonedQueue = "github.event.abandoned"
)

// syncScheduler runs each event's handler in the goroutine of the webhook
// request, so that the response to GitHub reports the outcome: a failed
// rollback is a failed delivery that GitHub records and can redeliver, and
// http.Server.Shutdown waits for in-flight events simply by waiting for their
// requests. go-githubapp's asynchronous schedulers answer 202 before the work
// is done and their queue cannot be drained on shutdown.
//
// Pushes are the exception, because they come in bursts (every merge, every
// Flux release) and GitHub waits only 10 seconds: with a queue they are
// acknowledged once verified and queued, and handled by their own workers.
// A push that finds the queue full is refused with 503; one whose handling
// fails is handed back to the redelivery sweeper, since GitHub recorded it
// as delivered; the queue is drained at shutdown.
//
// The handler's context is detached from the client connection: GitHub hangs
// up after 10 seconds, and abandoning a rollback half-way (a branch created,
// no pull request) would be worse than finishing it late. Each event instead
// has its own timeout, and all are cancelled together when the server gives up
// waiting at shutdown.
type syncScheduler struct {
	slots   chan struct{}
	timeout time.Duration
	// stop is cancelled when the shutdown timeout has passed.
	stop context.Context

	// queue holds acknowledged pushes; nil when pushes are handled while
	// GitHub waits.
	queue   chan queuedEvent
	workers sync.WaitGroup
	// queueMu guards closing the queue against a late Schedule.
	queueMu     sync.RWMutex
	queueClosed bool
	// failed is told the delivery id of a queued event whose handling
	// failed (the sweeper's handBack); nil when there is no sweeper.
	failed func(guid string)

	active   metrics.Gauge
	dropped  metrics.Counter
	registry metrics.Registry
}

// queuedEvent is an acknowledged push waiting for a worker.
type queuedEvent struct {
	ctx context.Context
	d   githubapp.Dispatch
}

var _ githubapp.Scheduler = (*syncScheduler)(nil)

func newSyncScheduler(stop context.Context, maxConcurrent int, timeout time.Duration, registry metrics.Registry) *syncScheduler {
	return &syncScheduler{
		slots:    make(chan struct{}, maxConcurrent),
		timeout:  timeout,
		stop:     stop,
		active:   metrics.GetOrRegisterGauge(metricActiveEvents, registry),
		dropped:  metrics.GetOrRegisterCounter(metricDroppedEvents, registry),
		registry: registry,
	}
}

// startQueue queues pushes, up to size of them, for workers goroutines.
func (s *syncScheduler) startQueue(size, workers int, failed func(guid string)) {
	s.queue = make(chan queuedEvent, size)
	s.failed = failed
	s.registry.GetOrRegister(metricQueuedEvents, metrics.NewFunctionalGauge(func() int64 { return int64(len(s.queue)) }))
	for range workers {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			for ev := range s.queue {
				s.runQueued(ev)
			}
		}()
	}
}

func (s *syncScheduler) runQueued(ev queuedEvent) {
	if err := s.run(ev.ctx, ev.d); err != nil {
		metrics.GetOrRegisterCounter(metricQueueFailures, s.registry).Inc(1)
		zerolog.Ctx(ev.ctx).Error().Err(err).Msg("Queued event failed; it is handed to the redelivery sweeper")
		if s.failed != nil {
			s.failed(ev.d.DeliveryID)
		}
	}
}

// drain stops queueing and waits until the workers have handled every
// queued event or ctx is done; then it returns the delivery ids of the
// events left unhandled.
func (s *syncScheduler) drain(ctx context.Context) []string {
	if s.queue == nil {
		return nil
	}
	s.queueMu.Lock()
	if !s.queueClosed {
		s.queueClosed = true
		close(s.queue)
	}
	s.queueMu.Unlock()
	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	var left []string
	for ev := range s.queue {
		left = append(left, ev.d.DeliveryID)
	}
	metrics.GetOrRegisterCounter(metricAbandonedQueue, s.registry).Inc(int64(len(left)))
	return left
}

// Schedule refuses a payload that is not a JSON object with 400, queues a
// push, and runs any other event now, or refuses it with
// githubapp.ErrCapacityExceeded (503) when max_concurrent_events are
// already running: waiting would only hold the delivery past GitHub's 10
// second limit.
func (s *syncScheduler) Schedule(ctx context.Context, d githubapp.Dispatch) error {
	if err := addEventLogKeys(ctx, d.Payload); err != nil {
		return githubapp.ValidationError{EventType: d.EventType, DeliveryID: d.DeliveryID, Cause: err}
	}
	if s.queue != nil && d.EventType == "push" {
		ev := queuedEvent{ctx: context.WithoutCancel(ctx), d: d}
		s.queueMu.RLock()
		defer s.queueMu.RUnlock()
		if s.queueClosed {
			s.dropped.Inc(1)
			return githubapp.ErrCapacityExceeded
		}
		select {
		case s.queue <- ev:
			return nil
		default:
			s.dropped.Inc(1)
			return githubapp.ErrCapacityExceeded
		}
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.dropped.Inc(1)
		return githubapp.ErrCapacityExceeded
	}
	s.active.Update(int64(len(s.slots)))
	defer func() {
		<-s.slots
		s.active.Update(int64(len(s.slots)))
	}()
	return s.run(ctx, d)
}

// run handles one event with its own timeout, detached from the request.
func (s *syncScheduler) run(ctx context.Context, d githubapp.Dispatch) (err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	stopCancel := context.AfterFunc(s.stop, cancel)
	defer stopCancel()
	defer panics.Recover(ctx, "handle "+d.EventType+" event", &err)

	start := time.Now()
	defer func() {
		metrics.GetOrRegisterTimer(fmt.Sprintf("%s[event:%s]", metricEventDuration, d.EventType), s.registry).UpdateSince(start)
	}()
	return d.Execute(ctx)
}

// eventEnvelope is the part of every payload that names where it happened.
type eventEnvelope struct {
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
}

// addEventLogKeys adds the installation and repository to the event's logger,
// which the dispatcher made for this request alone and gave the event type and
// delivery id. The logger is updated in place rather than copied into a new
// context so that the dispatcher's error callback, which logs a failed event
// through the request's context, names them too. A payload that is not a
// JSON object of that shape is an error: bad input, answered 400.
func addEventLogKeys(ctx context.Context, payload []byte) error {
	var env eventEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return fmt.Errorf("malformed payload: %w", err)
	}
	zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
		if env.Installation.ID > 0 {
			c = c.Int64(githubapp.LogKeyInstallationID, env.Installation.ID)
		}
		if env.Repository.Name != "" {
			c = c.Str(githubapp.LogKeyRepositoryOwner, env.Repository.Owner.Login).
				Str(githubapp.LogKeyRepositoryName, env.Repository.Name)
		}
		return c
	})
	return nil
}
