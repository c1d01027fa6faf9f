package server

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

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

// syncScheduler runs each event's handler in the goroutine of the webhook
// request, so that the response to GitHub reports the outcome: a failed
// rollback is a failed delivery that GitHub records and can redeliver, and
// http.Server.Shutdown waits for in-flight events simply by waiting for their
// requests. go-githubapp's asynchronous schedulers answer 202 before the work
// is done and their queue cannot be drained on shutdown.
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

	active   metrics.Gauge
	dropped  metrics.Counter
	registry metrics.Registry
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

// Schedule runs the handler now, or refuses with githubapp.ErrCapacityExceeded
// (503) when max_concurrent_events are already running: queueing would only
// hold the delivery past GitHub's 10 second limit.
func (s *syncScheduler) Schedule(ctx context.Context, d githubapp.Dispatch) (err error) {
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

	addEventLogKeys(ctx, d.Payload)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	stopCancel := context.AfterFunc(s.stop, cancel)
	defer stopCancel()

	defer func() {
		if r := recover(); r != nil {
			zerolog.Ctx(ctx).Error().Str(logkey.Stack, string(debug.Stack())).Msg("event handler panicked")
			err = fmt.Errorf("handle %s event: panic: %v", d.EventType, r)
		}
	}()

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
// through the request's context, names them too. A payload that does not
// parse is left to the handler, which reports it.
func addEventLogKeys(ctx context.Context, payload []byte) {
	var env eventEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return
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
}
