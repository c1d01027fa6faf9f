package fakegithub

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// rateLimit is GitHub's hourly budget for an installation or app.
const rateLimit = 5000

// rateLimits counts requests per identity in hourly windows and holds the
// rate-limit failure modes. Methods are called with g.mu held.
type rateLimits struct {
	windowStart time.Time
	used        map[string]int
	exhausted   bool // every request is over the primary limit until the window resets
	// exhaustedUntil, when set, ends the exhaustion and the window early.
	exhaustedUntil time.Time
	// exhaustAfter, when armed, is how many more requests are served
	// before the limit is spent for exhaustFor.
	exhaustArmed bool
	exhaustAfter int
	exhaustFor   time.Duration
	// secondaryLeft requests still to answer with a secondary rate limit.
	secondaryLeft   int
	secondaryStatus int
	retryAfter      time.Duration
}

func (l *rateLimits) reset(now time.Time) {
	l.windowStart = now
	l.used = map[string]int{}
	l.exhausted = false
	l.exhaustedUntil = time.Time{}
}

func (l *rateLimits) resetAt() time.Time {
	if l.exhausted && !l.exhaustedUntil.IsZero() {
		return l.exhaustedUntil
	}
	return l.windowStart.Add(time.Hour)
}

// setHeaders writes the X-RateLimit-* headers for a budget with used
// requests spent.
func (l *rateLimits) setHeaders(h http.Header, used int) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rateLimit-used))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(l.resetAt().Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// preview sets the headers of identity's budget without spending any of it,
// for answers given before the request is admitted (authentication errors,
// unknown routes).
func (l *rateLimits) preview(h http.Header, identity string) {
	used := l.used[identity]
	if l.exhausted {
		used = rateLimit
	}
	l.setHeaders(h, used)
}

// admit counts a request, sets the X-RateLimit-* headers and answers the
// request itself (returning false) when a limit applies.
func (l *rateLimits) admit(w http.ResponseWriter, identity string, now time.Time) bool {
	if !now.Before(l.resetAt()) {
		l.reset(now)
	}
	h := w.Header()
	if l.secondaryLeft > 0 {
		l.secondaryLeft--
		h.Set("Retry-After", strconv.Itoa(int(l.retryAfter.Seconds())))
		// go-github recognises a secondary limit by this documentation_url suffix.
		writeErrorBody(w, l.secondaryStatus, errorBody{
			Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		return false
	}
	if l.exhaustArmed && l.exhaustAfter <= 0 {
		l.exhaustArmed = false
		l.exhausted = true
		l.exhaustedUntil = now.Add(l.exhaustFor)
	}
	used := l.used[identity]
	if l.exhausted {
		used = rateLimit
	}
	over := used >= rateLimit
	if !over && l.exhaustArmed {
		l.exhaustAfter--
	}
	if !over {
		used++
		l.used[identity] = used
	}
	l.setHeaders(h, used)
	if over {
		writeErrorBody(w, http.StatusForbidden, errorBody{
			Message:          fmt.Sprintf("API rate limit exceeded for %s.", identity),
			DocumentationURL: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		})
		return false
	}
	return true
}

// ExhaustRateLimit spends the primary rate limit: every request answers 403
// with X-RateLimit-Remaining: 0 and X-RateLimit-Reset until the hourly window
// ends or RestoreRateLimit is called.
func (g *GitHub) ExhaustRateLimit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.exhausted = true
}

// ExhaustRateLimitFor spends the primary rate limit for d: every request
// answers 403 with X-RateLimit-Remaining: 0 and an X-RateLimit-Reset d from
// now, after which a fresh window starts.
func (g *GitHub) ExhaustRateLimitFor(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.exhausted = true
	g.limits.exhaustedUntil = g.now().Add(d)
}

// ExhaustRateLimitAfter serves the next requests requests and then spends
// the primary rate limit for d, as ExhaustRateLimitFor does, from the moment
// the next request arrives: that request is the first to learn of the limit
// from a 403, as when another replica of the app spent the installation's
// last requests.
func (g *GitHub) ExhaustRateLimitAfter(requests int, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.exhaustArmed = true
	g.limits.exhaustAfter = requests
	g.limits.exhaustFor = d
}

// RestoreRateLimit starts a fresh rate-limit window and ends the secondary
// rate-limit mode.
func (g *GitHub) RestoreRateLimit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.reset(g.now())
	g.limits.secondaryLeft = 0
	g.limits.exhaustArmed = false
}

// SecondaryRateLimitNext answers the next count requests with a secondary
// rate limit: status 429 (or 403, which GitHub also uses) with Retry-After.
func (g *GitHub) SecondaryRateLimitNext(status, count int, retryAfter time.Duration) {
	if status != http.StatusTooManyRequests && status != http.StatusForbidden {
		panic(fmt.Sprintf("fakegithub: SecondaryRateLimitNext: status %d is neither 403 nor 429", status))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.secondaryLeft = count
	g.limits.secondaryStatus = status
	g.limits.retryAfter = retryAfter
}

// failure is an injected error for one route.
type failure struct {
	method, path string
	status       int
	left         int
}

// FailNext makes the next count requests to route (its OpenAPI template, e.g.
// "/repos/{owner}/{repo}/git/refs") with method answer status with a
// GitHub-shaped error body. Authentication is checked first, so a failure is
// consumed only by requests that would otherwise have been served. It panics
// when the fake serves no such route, so a typo cannot make a test pass.
func (g *GitHub) FailNext(method, route string, status, count int) {
	known := false
	for _, rt := range Routes() {
		if rt.Method == method && rt.Path == route {
			known = true
		}
	}
	if !known {
		panic(fmt.Sprintf("fakegithub: FailNext: the fake serves no route %s %s", method, route))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures = append(g.failures, &failure{method: method, path: route, status: status, left: count})
}

// injectFailure answers the request when a failure is pending for its route.
func (g *GitHub) injectFailure(w http.ResponseWriter, rt *route) bool {
	for i, f := range g.failures {
		if f.method != rt.method || f.path != rt.path {
			continue
		}
		f.left--
		if f.left <= 0 {
			g.failures = append(g.failures[:i], g.failures[i+1:]...)
		}
		message := http.StatusText(f.status)
		if f.status >= 500 {
			message = "Server Error"
		}
		writeError(w, f.status, message)
		return true
	}
	return false
}
