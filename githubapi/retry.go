package githubapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"
)

// RetryPolicy is how every request to GitHub is retried. The zero value of a
// field means its default.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one request (DefaultMaxAttempts).
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, with full
	// jitter, up to MaxDelay (DefaultBaseDelay, DefaultMaxDelay).
	BaseDelay, MaxDelay time.Duration
	// AttemptTimeout bounds one attempt, response body included
	// (DefaultAttemptTimeout). The whole request is bounded by its context,
	// the event's deadline.
	AttemptTimeout time.Duration
	// MaxLimitWait is the longest a request waits for a rate limit to end
	// (DefaultMaxLimitWait); the context's deadline may cut it shorter.
	MaxLimitWait time.Duration
	// Registry receives the retry metrics; nil means none.
	Registry metrics.Registry
}

// Defaults of RetryPolicy.
const (
	DefaultMaxAttempts    = 4
	DefaultBaseDelay      = 250 * time.Millisecond
	DefaultMaxDelay       = 4 * time.Second
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMaxLimitWait   = time.Minute
)

// Metric names of the retry transport (go-metrics, tagged as go-githubapp
// tags its own: name[key:value]).
const (
	// MetricRetries counts retried attempts by cause.
	MetricRetries = "github.retries"
	// MetricLimitWaits times the waits for rate limits by cause.
	MetricLimitWaits = "github.rate_limit.waits"
	// MetricGiveUps counts requests answered with a failure the policy
	// would have retried, had attempts or time been left, by cause.
	MetricGiveUps = "github.retry.give_ups"
	// MetricOutcomeUnknown counts writes that may or may not have happened
	// and were left to the caller to check rather than repeated.
	MetricOutcomeUnknown = "github.writes.outcome_unknown"
)

// Causes of a retry, as the metrics name them.
const (
	CauseServerError    = "server_error"
	CauseTimeout        = "timeout"
	CauseConnection     = "connection"
	CausePrimaryLimit   = "primary_limit"
	CauseSecondaryLimit = "secondary_limit"
)

// ErrOutcomeUnknown is wrapped by the error of a write that GitHub may have
// carried out although no answer came (a timeout or a lost connection after
// the request was sent, or a 5xx). It is not repeated by the transport: the
// caller checks whether the write happened before trying again.
var ErrOutcomeUnknown = errors.New("the request was sent but its outcome is unknown")

// outcomeUnknownError is returned by the transport for such writes.
type outcomeUnknownError struct{ err error }

func (e *outcomeUnknownError) Error() string { return ErrOutcomeUnknown.Error() + ": " + e.err.Error() }
func (e *outcomeUnknownError) Unwrap() []error {
	return []error{ErrOutcomeUnknown, e.err}
}

// NewRetryTransport returns the one retry policy for GitHub requests, as a
// RoundTripper over next. It is the client creator's base transport, so that
// every request, installation token requests and the app's own included,
// goes through it.
//
//   - Reads and idempotent writes (GET, HEAD, PUT, PATCH, DELETE) are
//     retried on 5xx answers, timeouts and connection errors, with capped
//     exponential backoff and full jitter.
//   - Creations that are safe to repeat are retried the same way: git
//     objects are content-addressed, and a repeated branch or pull request
//     creation is answered 422 "already exists", which the rollback treats
//     as its own earlier attempt. Other creations (check runs, comments)
//     are retried only when they surely did not reach GitHub (the
//     connection was refused); when their outcome is unknown the error
//     wraps ErrOutcomeUnknown and the caller checks before repeating.
//   - Rate limits are waited out as GitHub says: secondary limits (403 or
//     429 with Retry-After, or a "secondary rate limit" message) for
//     Retry-After, primary limits (X-RateLimit-Remaining: 0) until
//     X-RateLimit-Reset. Each credential (installation token, or the app's
//     JWT) has its own limit state, so one installation's wait never blocks
//     another's requests. A wait that would outlast the request's deadline
//     is not started: the limit answer is returned at once.
//   - go-github remembers a primary limit and then refuses every call of
//     that client without asking GitHub until the reset, up to an hour,
//     even once GitHub is answering again. The transport keeps that state
//     itself and hides X-RateLimit-Reset and Retry-After from go-github on
//     answers that would set it.
func NewRetryTransport(next http.RoundTripper, p RetryPolicy) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultAttemptTimeout
	}
	if p.MaxLimitWait <= 0 {
		p.MaxLimitWait = DefaultMaxLimitWait
	}
	if p.Registry == nil {
		p.Registry = metrics.NewRegistry()
	}
	return &retryTransport{next: next, policy: p, limits: map[uint64]limitState{}, now: time.Now}
}

type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	now    func() time.Time

	mu sync.Mutex
	// limits holds, per credential, until when GitHub said to wait.
	limits map[uint64]limitState
}

type limitState struct {
	until time.Time
	cause string
}

// writeKind is how a request may be repeated.
type writeKind int

const (
	repeatable writeKind = iota // reads, idempotent writes, safe creations
	checked                     // repeated only when surely not sent
)

// repeatableCreations are the POST routes whose repetition is harmless.
var repeatableCreations = []*regexp.Regexp{
	regexp.MustCompile(`/repos/[^/]+/[^/]+/git/(blobs|trees|commits|refs)$`),
	regexp.MustCompile(`/repos/[^/]+/[^/]+/pulls$`),
	regexp.MustCompile(`/repos/[^/]+/[^/]+/issues/\d+/labels$`),
	regexp.MustCompile(`/repos/[^/]+/[^/]+/pulls/\d+/requested_reviewers$`),
	regexp.MustCompile(`/reactions$`),
	regexp.MustCompile(`/app/installations/\d+/access_tokens$`),
}

func kindOf(r *http.Request) writeKind {
	if r.Method != http.MethodPost {
		return repeatable
	}
	for _, re := range repeatableCreations {
		if re.MatchString(r.URL.Path) {
			return repeatable
		}
	}
	return checked
}

// credential identifies whose rate limit a request spends: the installation
// token, or the app itself for requests signed with its JWT. Only a hash is
// kept.
func credential(r *http.Request) uint64 {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "Bearer ey") {
		// A JWT: the app's own budget, whichever token it is.
		auth = "app"
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(auth))
	return h.Sum64()
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cred := credential(req)
	kind := kindOf(req)
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	logger := zerolog.Ctx(ctx)

	for attempt := 1; ; attempt++ {
		if resp := t.awaitLimit(ctx, cred, req); resp != nil {
			return resp, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		try := req
		if attempt > 1 {
			try = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("rewind request body: %w", err)
				}
				try.Body = body
			}
		}
		resp, err := t.attempt(try)
		if ctx.Err() != nil {
			// The event's own deadline or cancellation: nothing to retry.
			if resp != nil {
				return resp, nil
			}
			return nil, err
		}
		cause, wait := t.classify(cred, resp, err)
		if cause == "" {
			return resp, err
		}
		sent := err == nil || !isDialError(err)
		limited := cause == CausePrimaryLimit || cause == CauseSecondaryLimit

		giveUp := func() (*http.Response, error) {
			metrics.GetOrRegisterCounter(tagged(MetricGiveUps, cause), t.policy.Registry).Inc(1)
			if resp != nil {
				return hideLimitState(resp), nil
			}
			return nil, err
		}
		if kind == checked && sent && !limited {
			metrics.GetOrRegisterCounter(MetricOutcomeUnknown, t.policy.Registry).Inc(1)
			if resp != nil {
				return resp, nil
			}
			return nil, &outcomeUnknownError{err: err}
		}
		if attempt >= t.policy.MaxAttempts || !rewindable {
			return giveUp()
		}
		if !limited {
			wait = t.backoff(attempt)
		}
		if deadline, ok := ctx.Deadline(); ok && t.now().Add(wait).After(deadline) {
			return giveUp()
		}
		if limited && wait > t.policy.MaxLimitWait {
			return giveUp()
		}
		if resp != nil {
			drain(resp)
		}
		metrics.GetOrRegisterCounter(tagged(MetricRetries, cause), t.policy.Registry).Inc(1)
		logger.Debug().Str(logkey.Method, req.Method).Str(logkey.Path, req.URL.Path).Str(logkey.Cause, cause).
			Int(logkey.Attempt, attempt).Dur(logkey.Wait, wait).Msg("retrying GitHub request")
		if limited {
			// The limit is recorded; awaitLimit waits it out (and times it).
			continue
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt makes one try, bounded by AttemptTimeout until its body is closed.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.policy.AttemptTimeout)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			return nil, &attemptTimeoutError{err: err}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string   { return "attempt timed out: " + e.err.Error() }
func (e *attemptTimeoutError) Unwrap() error   { return e.err }
func (e *attemptTimeoutError) Timeout() bool   { return true }
func (e *attemptTimeoutError) Temporary() bool { return true }

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// classify names why an attempt should be retried ("" when it should not),
// records a rate limit for the credential, and returns how long GitHub asked
// to wait, for limits.
func (t *retryTransport) classify(cred uint64, resp *http.Response, err error) (string, time.Duration) {
	if err != nil {
		var te *attemptTimeoutError
		var ne net.Error
		switch {
		case errors.As(err, &te), errors.As(err, &ne) && ne.Timeout():
			return CauseTimeout, 0
		default:
			return CauseConnection, 0
		}
	}
	now := t.now()
	remaining := resp.Header.Get("X-RateLimit-Remaining")
	reset := resetTime(resp.Header)
	if remaining == "0" && !reset.IsZero() && resp.StatusCode < 400 {
		// The last request of the window succeeded: later ones wait.
		t.setLimit(cred, reset, CausePrimaryLimit)
		hideLimitState(resp)
		return "", 0
	}
	if remaining != "" && remaining != "0" {
		t.clearLimit(cred, CausePrimaryLimit)
	}
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		if ra, ok := retryAfter(resp.Header, now); ok {
			t.setLimit(cred, now.Add(ra), CauseSecondaryLimit)
			return CauseSecondaryLimit, ra
		}
		if remaining == "0" && !reset.IsZero() {
			// X-RateLimit-Reset is in whole seconds: a second more is
			// surely past it.
			reset = reset.Add(time.Second)
			t.setLimit(cred, reset, CausePrimaryLimit)
			return CausePrimaryLimit, reset.Sub(now)
		}
		if resp.StatusCode == http.StatusTooManyRequests || secondaryMessage(resp) {
			// GitHub: without a header, wait at least a minute.
			t.setLimit(cred, now.Add(time.Minute), CauseSecondaryLimit)
			return CauseSecondaryLimit, time.Minute
		}
		return "", 0
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CauseServerError, 0
	}
	return "", 0
}

// awaitLimit waits for the credential's rate limit to end, when one is
// known and its end falls within the request's deadline. It returns a
// response to give instead of sending when the request may not be sent at
// all: a secondary limit that outlasts the deadline (GitHub asks not to send
// while it lasts). A primary limit that outlasts the deadline is put to
// GitHub anyway: it costs nothing and GitHub may answer again already.
func (t *retryTransport) awaitLimit(ctx context.Context, cred uint64, req *http.Request) *http.Response {
	t.mu.Lock()
	st, ok := t.limits[cred]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	wait := st.until.Sub(t.now())
	if wait <= 0 {
		t.mu.Lock()
		if cur, ok := t.limits[cred]; ok && !cur.until.After(t.now()) {
			delete(t.limits, cred)
		}
		t.mu.Unlock()
		return nil
	}
	deadline, hasDeadline := ctx.Deadline()
	if wait > t.policy.MaxLimitWait || hasDeadline && t.now().Add(wait).After(deadline) {
		if st.cause == CauseSecondaryLimit {
			metrics.GetOrRegisterCounter(tagged(MetricGiveUps, st.cause), t.policy.Registry).Inc(1)
			return limitedResponse(req, wait)
		}
		return nil
	}
	start := t.now()
	err := sleep(ctx, wait)
	metrics.GetOrRegisterTimer(tagged(MetricLimitWaits, st.cause), t.policy.Registry).UpdateSince(start)
	if err != nil {
		return nil // the caller returns ctx.Err()
	}
	return nil
}

func (t *retryTransport) setLimit(cred uint64, until time.Time, cause string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.limits) > 1000 {
		// Installation tokens change every hour; forget ended limits.
		now := t.now()
		for c, st := range t.limits {
			if !st.until.After(now) {
				delete(t.limits, c)
			}
		}
	}
	if cur, ok := t.limits[cred]; !ok || until.After(cur.until) {
		t.limits[cred] = limitState{until: until, cause: cause}
	}
}

func (t *retryTransport) clearLimit(cred uint64, cause string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.limits[cred]; ok && cur.cause == cause {
		delete(t.limits, cred)
	}
}

// backoff is the wait before retry number attempt: full jitter over a
// doubling ceiling.
func (t *retryTransport) backoff(attempt int) time.Duration {
	ceiling := t.policy.BaseDelay << (attempt - 1)
	if ceiling > t.policy.MaxDelay || ceiling <= 0 {
		ceiling = t.policy.MaxDelay
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

// limitedResponse is the answer to a request held back by a secondary limit
// that outlasts its deadline: GitHub's 429, without the headers that would
// make go-github refuse later calls by itself.
func limitedResponse(req *http.Request, wait time.Duration) *http.Response {
	body := fmt.Sprintf(`{"message":"secondary rate limit: not sent, GitHub asked to wait %s more","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`, wait.Round(time.Second))
	return &http.Response{
		Status:        "429 Too Many Requests",
		StatusCode:    http.StatusTooManyRequests,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// hideLimitState removes from resp what would make go-github refuse later
// calls without sending them: Retry-After, and X-RateLimit-Reset on a limit
// answer or beside a zero X-RateLimit-Remaining. The transport keeps that state
// itself, per credential, and forgets it as soon as GitHub answers again.
func hideLimitState(resp *http.Response) *http.Response {
	limited := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests
	if limited || resp.Header.Get("X-RateLimit-Remaining") == "0" {
		// Without Retry-After, go-github takes a secondary limit to last
		// until X-RateLimit-Reset, the end of the hourly window.
		resp.Header.Del("X-RateLimit-Reset")
	}
	resp.Header.Del("Retry-After")
	return resp
}

func resetTime(h http.Header) time.Time {
	v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || v <= 0 {
		return time.Time{}
	}
	return time.Unix(v, 0)
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// secondaryMessage reports whether a 403 body says it is a secondary limit
// (GitHub sometimes sends one without headers). The body is put back.
func secondaryMessage(resp *http.Response) bool {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return false
	}
	s := strings.ToLower(string(data))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse detection")
}

func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func tagged(name, cause string) string { return name + "[cause:" + cause + "]" }
