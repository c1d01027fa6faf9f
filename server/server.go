// Package server wires flux-rollback together: configuration, logger, metrics
// registry, GitHub client creator, webhook dispatcher and HTTP routes. It is
// the only package that does.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/google/go-github/v57/github"
	"github.com/gregjones/httpcache"
	"github.com/mattn/go-isatty"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"golang.org/x/sync/semaphore"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/handlers"
	"github.com/fluxrollback/flux-rollback/internal/panics"
)

// Routes.
const (
	WebhookRoute = githubapp.DefaultWebhookRoute
	HealthRoute  = "/api/health"
	MetricsRoute = "/metrics"
)

// MaxPayloadBytes is GitHub's cap on webhook payloads; GitHub itself drops
// larger ones, so anything bigger is not from GitHub.
const MaxPayloadBytes = 25 << 20

// Server states, as /api/health reports them.
const (
	stateStarting int32 = iota
	stateReady
	stateStopping
)

var stateNames = map[int32]string{
	stateStarting: "starting",
	stateReady:    "ok",
	stateStopping: "stopping",
}

// Server is flux-rollback's HTTP server.
type Server struct {
	cfg     *Config
	version string
	logger  zerolog.Logger
	handler http.Handler
	metrics http.Handler // also on the main handler unless metrics_address is set
	state   atomic.Int32
	ready   chan struct{}

	scheduler *syncScheduler
	sweeper   *sweeper // nil when redelivery.interval is 0

	// abandon cancels the contexts of in-flight events once shutdown has
	// waited shutdown_timeout for them.
	abandon context.CancelFunc
}

// Option customises New.
type Option func(*options)

type options struct {
	version  string
	logger   *zerolog.Logger
	registry metrics.Registry
	handlers func(*handlers.Base) []githubapp.EventHandler
}

// WithVersion sets the version reported by /api/health and sent in the
// User-Agent of GitHub API requests.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithLogger sets the logger; by default the server logs to stderr at the
// configured level (see NewLogger).
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.logger = &l } }

// WithRegistry sets the metrics registry served at /metrics.
func WithRegistry(r metrics.Registry) Option { return func(o *options) { o.registry = r } }

// WithHandlers replaces handlers.All as the source of the webhook handlers.
func WithHandlers(f func(*handlers.Base) []githubapp.EventHandler) Option {
	return func(o *options) { o.handlers = f }
}

// New builds a server from a loaded configuration (see LoadConfig).
func New(cfg *Config, opts ...Option) (*Server, error) {
	o := options{version: "dev", handlers: handlers.All}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.GitHub.App.WebhookSecret == "" {
		// go-github skips signature checks when the secret is empty.
		return nil, errors.New("new server: the webhook secret is empty")
	}
	if o.registry == nil {
		o.registry = metrics.NewRegistry()
	}
	if o.logger == nil {
		l := NewLogger(os.Stderr, cfg.Server.LogLevel)
		o.logger = &l
	}

	s := &Server{
		cfg:     cfg,
		version: o.version,
		logger:  *o.logger,
		ready:   make(chan struct{}),
	}

	transport := githubapi.NewRetryTransport(http.DefaultTransport, githubapi.RetryPolicy{
		AttemptTimeout: cfg.Rollback.ClientTimeout,
		Registry:       o.registry,
	})
	clientOptions := []githubapp.ClientOption{
		githubapp.WithClientUserAgent("flux-rollback/" + o.version),
		// The retry policy is the base transport, under the installation
		// token and the cache, so that every request (token requests and the
		// app's own included) goes through it. client_timeout bounds each
		// attempt there; an http.Client timeout would cut short the waits
		// for rate limits, which the event's deadline bounds instead.
		githubapp.WithTransport(transport),
		githubapp.WithClientMiddleware(append(clientMetrics(o.registry),
			// Logs method, path, status and timing; never headers, so no token.
			githubapp.ClientLogging(zerolog.DebugLevel),
		)...),
	}
	if cfg.Rollback.CacheSizeMB > 0 {
		cache := newLRUHTTPCache(cfg.Rollback.CacheSizeMB << 20)
		// alwaysValidate: every read is revalidated with GitHub (a cheap 304
		// that does not count against the rate limit) instead of trusting
		// max-age=60, because a rollback must see the branch head as it is
		// now. Installations share the cache safely: GitHub's responses vary
		// on Authorization, so one token's entries never answer another's.
		clientOptions = append(clientOptions, githubapp.WithClientCaching(true, func() httpcache.Cache { return cache }))
	}
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg.GitHub.Config, clientOptions...)
	if err != nil {
		return nil, fmt.Errorf("create GitHub client creator: %w", err)
	}

	base := &handlers.Base{
		ClientCreator: clients,
		AppID:         cfg.GitHub.App.IntegrationID,
		Configs:       githubapi.NewConfigLoader(cfg.Rollback.ConfigFile, cfg.Rollback.Defaults),
		ProgressDelay: cfg.Rollback.ProgressDelay,
	}
	stop, abandon := context.WithCancel(context.Background())
	s.abandon = abandon
	scheduler := newSyncScheduler(stop, cfg.Rollback.MaxConcurrentEvents, cfg.Rollback.EventTimeout, o.registry)
	s.scheduler = scheduler
	if cfg.Redelivery.Interval > 0 {
		appClient, err := newAppClient(cfg, transport)
		if err != nil {
			return nil, err
		}
		s.sweeper = newSweeper(appClient, cfg.Redelivery, o.registry, s.logger)
	}
	if cfg.Rollback.QueueSize > 0 {
		var failed func(string)
		if s.sweeper != nil {
			failed = s.sweeper.handBack
		}
		scheduler.startQueue(cfg.Rollback.QueueSize, cfg.Rollback.QueueWorkers, failed)
	}
	o.registry.GetOrRegister(metricPanics, metrics.NewFunctionalGauge(panics.Count))
	metricsOnError := githubapp.MetricsErrorCallback(o.registry)
	dispatcher := githubapp.NewEventDispatcher(o.handlers(base), cfg.GitHub.App.WebhookSecret,
		githubapp.WithScheduler(scheduler),
		githubapp.WithErrorCallback(func(w http.ResponseWriter, r *http.Request, err error) {
			if tooLarge(err) {
				zerolog.Ctx(r.Context()).Warn().Msg("Refused webhook payload over GitHub's 25 MB limit")
				http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
				return
			}
			metricsOnError(w, r, err)
		}),
	)
	metrics.GetOrRegisterGauge("build.info[version:"+o.version+"]", o.registry).Update(1)

	mux := http.NewServeMux()
	guard := &webhookGuard{
		next:    dispatcher,
		secret:  []byte(cfg.GitHub.App.WebhookSecret),
		budget:  semaphore.NewWeighted(int64(cfg.Server.MaxUnauthenticatedMB) << 20),
		wait:    cfg.Server.ReadTimeout,
		waiting: metrics.GetOrRegisterCounter(metricBodyBudgetWaits, o.registry),
		refused: metrics.GetOrRegisterCounter(metricBodyBudgetRefusals, o.registry),
	}
	mux.Handle("POST "+WebhookRoute, guard)
	mux.HandleFunc("GET "+HealthRoute, s.health)
	s.metrics = metricsHandler(o.registry, s.logger)
	if cfg.Server.MetricsAddress == "" {
		mux.Handle("GET "+MetricsRoute, s.metrics)
	}
	s.handler = s.logRequests(mux)
	return s, nil
}

// Config is the configuration the server was built with.
func (s *Server) Config() *Config { return s.cfg }

// Handler serves all routes. It reports "starting" on /api/health until Run
// has started.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready is closed once Run is serving.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// ListenAndServe listens on the configured address and runs the server (see
// Run).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Address())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if addr := s.cfg.Server.MetricsAddress; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
		stop := s.ServeMetrics(mln)
		defer stop()
	}
	return s.Run(ctx, ln)
}

// ServeMetrics serves /metrics alone on ln (server.metrics_address) until
// the returned function is called. Metrics stay available while the server
// drains.
func (s *Server) ServeMetrics(ln net.Listener) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsRoute, s.metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.logger.Info().Str(logkey.Address, ln.Addr().String()).Msg("Serving metrics")
	return func() { _ = srv.Close() }
}

// Run serves on ln until ctx is done or the process receives SIGINT or
// SIGTERM. It then answers 503 on /api/health at once, keeps accepting for
// server.shutdown_delay (so that the load balancer stops sending first),
// stops accepting and waits up to server.shutdown_timeout for in-flight
// events and queued pushes to finish; it returns nil when they all did.
// Queued pushes left at the end are handed to one last redelivery sweep. A
// second signal during the wait ends the process at once.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.Server.ReadTimeout,
		// The response to a webhook is written when its event is handled.
		WriteTimeout: s.cfg.Rollback.EventTimeout + time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     stdlog.New(s.logger.With().Str(logkey.Component, "http").Logger(), "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.state.Store(stateReady)
	close(s.ready)
	s.logger.Info().Str(logkey.Address, ln.Addr().String()).Str(logkey.Version, s.version).Msg("flux-rollback is serving")
	sweepCtx, stopSweeping := context.WithCancel(context.Background())
	defer stopSweeping()
	sweeping := make(chan struct{})
	if s.sweeper != nil {
		go func() {
			defer close(sweeping)
			s.sweeper.run(sweepCtx)
		}()
	} else {
		close(sweeping)
	}

	select {
	case err := <-served:
		s.state.Store(stateStopping)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stopSignals()
	s.state.Store(stateStopping)
	if delay := s.cfg.Server.ShutdownDelay; delay > 0 {
		s.logger.Info().Stringer("delay", delay).Msg("Shutting down: readiness is 503, still accepting webhooks")
		// A second signal ends the delay early.
		again, stopAgain := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		select {
		case <-again.Done():
		case <-time.After(delay):
		}
		stopAgain()
	}
	stopSweeping()
	<-sweeping
	timeout := s.cfg.Server.ShutdownTimeout
	// Shutdown runs this once it has closed the listeners.
	srv.RegisterOnShutdown(func() {
		s.logger.Info().Stringer("timeout", timeout).Msg("Shutting down: waiting for in-flight events")
	})

	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		s.abandon()
		closeErr := srv.Close()
		<-served
		s.handBackQueue(s.scheduler.drain(shutdownCtx))
		return errors.Join(fmt.Errorf("shut down: in-flight events did not finish within %s: %w", timeout, err), closeErr)
	}
	<-served
	if left := s.scheduler.drain(shutdownCtx); len(left) > 0 {
		s.abandon()
		s.handBackQueue(left)
		return fmt.Errorf("shut down: %d queued pushes were not handled within %s; they were handed to the redelivery sweeper", len(left), timeout)
	}
	s.logger.Info().Msg("Stopped")
	return nil
}

// handBackQueue asks GitHub to redeliver the queued pushes shutdown could
// not handle (to another replica, or to this one's successor through its
// first sweep), and names them in the log.
func (s *Server) handBackQueue(guids []string) {
	if len(guids) == 0 {
		return
	}
	s.logger.Error().Strs(logkey.Deliveries, guids).Msg("Queued pushes left unhandled at shutdown")
	if s.sweeper == nil {
		return
	}
	for _, g := range guids {
		s.sweeper.handBack(g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.sweeper.sweep(ctx); err != nil {
		s.logger.Error().Err(err).Msg("Last redelivery sweep failed")
	}
}

// health answers 200 once the server is serving and 503 while it starts or
// stops, so that a load balancer sends webhooks only where they will be
// handled.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	state := s.state.Load()
	code := http.StatusOK
	if state != stateReady {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	}{stateNames[state], s.version})
}

// Metric names of the webhook guard.
const (
	metricBodyBudgetWaits    = "webhook.body_budget.waits"
	metricBodyBudgetRefusals = "webhook.body_budget.refusals"
	metricPanics             = "panics.recovered"
)

// webhookGuard reads and authenticates a delivery before the dispatcher sees
// it, refusing bodies over GitHub's payload limit (413), deliveries without
// a SHA-256 signature (which go-github would otherwise check against the
// weaker SHA-1 header) or with a wrong one (400).
//
// The bytes of bodies being read before their signature is checked are
// bounded across all connections by budget (server.max_unauthenticated_mb):
// a delivery waits for room up to the read timeout, then is refused with
// 503. Without it, a burst of junk bodies of up to 25 MB each would be read
// into memory all at once.
type webhookGuard struct {
	next    http.Handler
	secret  []byte
	budget  *semaphore.Weighted
	wait    time.Duration
	waiting metrics.Counter
	refused metrics.Counter
}

func (g *webhookGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	logger := zerolog.Ctx(r.Context())
	if r.ContentLength > MaxPayloadBytes {
		logger.Warn().Int64(logkey.ContentLength, r.ContentLength).Msg("Refused webhook payload over GitHub's 25 MB limit")
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	signature := r.Header.Get(github.SHA256SignatureHeader)
	if signature == "" {
		logger.Warn().Msg("Refused webhook without " + github.SHA256SignatureHeader)
		http.Error(w, "missing "+github.SHA256SignatureHeader, http.StatusBadRequest)
		return
	}
	// GitHub always sends a length; a body without one is charged the
	// whole limit.
	charge := r.ContentLength
	if charge < 0 {
		charge = MaxPayloadBytes
	}
	if !g.budget.TryAcquire(charge) {
		g.waiting.Inc(1)
		ctx, cancel := context.WithTimeout(r.Context(), g.wait)
		err := g.budget.Acquire(ctx, charge)
		cancel()
		if err != nil {
			g.refused.Inc(1)
			logger.Warn().Msg("Refused webhook: too many bytes are being read before authentication")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxPayloadBytes), r.ContentLength)
	if err == nil {
		err = github.ValidateSignature(signature, body, g.secret)
	}
	g.budget.Release(charge)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		logger.Warn().Msg("Refused webhook payload over GitHub's 25 MB limit")
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		logger.Warn().Err(err).Msg("Refused webhook: unreadable body or wrong signature")
		http.Error(w, "invalid signature or body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	g.next.ServeHTTP(w, r)
}

// readBody reads a body of the announced length into a buffer of exactly
// that size (io.ReadAll would grow one to up to twice the size).
func readBody(body io.Reader, length int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

// tooLarge reports whether the dispatcher failed because the body was cut
// off by http.MaxBytesReader.
func tooLarge(err error) bool {
	var ve githubapp.ValidationError
	var mbe *http.MaxBytesError
	return errors.As(err, &ve) && errors.As(ve.Cause, &mbe)
}

// logRequests puts the server's logger in every request's context (handlers
// and go-githubapp log through zerolog.Ctx) and logs each request once it is
// answered: webhooks at info, probes and scrapes at debug.
func (s *Server) logRequests(next http.Handler) http.Handler {
	access := hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		level := zerolog.DebugLevel
		if r.URL.Path == WebhookRoute {
			level = zerolog.InfoLevel
		}
		zerolog.Ctx(r.Context()).WithLevel(level).
			Str("method", r.Method).
			Str("path", r.URL.Path).
			Str(githubapp.LogKeyEventType, r.Header.Get(github.EventTypeHeader)).
			Str(githubapp.LogKeyDeliveryID, r.Header.Get(github.DeliveryIDHeader)).
			Int("status", status).
			Int("size", size).
			Dur("duration_ms", d).
			Msg("HTTP request")
	})
	return hlog.NewHandler(s.logger)(access(next))
}

// NewLogger returns a JSON logger on w at level, or a human-readable one when
// w is a terminal. An unknown level means info.
func NewLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		w = zerolog.ConsoleWriter{Out: f, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}
