package fakegithub

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Faults makes the fake misbehave as GitHub does on a bad day. Each share is
// the probability that one API request meets that fault; the draws are
// reproducible from Seed. Faults apply to requests authenticated as an
// installation (the app's JWT routes and token creation are spared unless
// AppRoutes is set), after authentication, like GitHub's own failures.
type Faults struct {
	Seed uint64
	// ServerError answers 502 Bad Gateway without doing anything.
	ServerError float64
	// Timeout holds the request for Stall (default 15s) or until the client
	// hangs up, does nothing, then answers 504.
	Timeout float64
	Stall   time.Duration
	// LostResponse carries the request out and then closes the connection
	// without an answer: a write that landed although the client never
	// hears so. Only writes (not GET) lose their response.
	LostResponse float64
	// SecondaryLimit answers 429 or 403 (alternately) with Retry-After.
	SecondaryLimit float64
	RetryAfter     time.Duration // default 1s
	// AppRoutes extends the faults to routes authenticated with the app's
	// JWT (the deliveries API, installation tokens).
	AppRoutes bool
}

// faultState is the fault configuration and its random source. Guarded by
// g.mu.
type faultState struct {
	cfg         Faults
	rnd         *rand.Rand
	secondaries int
	// lost and stalled are the targeted faults of LoseResponseNext and
	// StallNext, by "METHOD /route".
	lost    map[string]int
	stalled map[string]int
	stale   map[string]int
	latency time.Duration
}

// SetFaults turns random faults on (or off, with the zero Faults).
func (g *GitHub) SetFaults(f Faults) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f.Stall <= 0 {
		f.Stall = 15 * time.Second
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	g.faults.cfg = f
	g.faults.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// SetLatency delays every API answer by d, as the internet between the app
// and api.github.com does.
func (g *GitHub) SetLatency(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults.latency = d
}

func (g *GitHub) latency() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.faults.latency
}

// LoseResponseNext makes the next count requests to route carry out their
// work and then drop the connection without an answer.
func (g *GitHub) LoseResponseNext(method, route string, count int) {
	g.mustServe("LoseResponseNext", method, route)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.faults.lost == nil {
		g.faults.lost = map[string]int{}
	}
	g.faults.lost[method+" "+route] += count
}

// StaleListNext makes the next count requests to a list route answer an
// empty list, as GitHub's lists do for a moment after a write made through
// another server (a pull request just opened by another replica).
func (g *GitHub) StaleListNext(route string, count int) {
	g.mustServe("StaleListNext", http.MethodGet, route)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.faults.stale == nil {
		g.faults.stale = map[string]int{}
	}
	g.faults.stale[http.MethodGet+" "+route] += count
}

// staleList answers an empty list when StaleListNext asked for one. Called
// with g.mu held.
func (g *GitHub) staleList(rt *route, w http.ResponseWriter, r *http.Request) bool {
	key := rt.method + " " + rt.path
	if g.faults.stale[key] <= 0 {
		return false
	}
	g.faults.stale[key]--
	writeJSON(w, r, http.StatusOK, []byte("[]"))
	return true
}

// StallNext makes the next count requests to route wait for d (or for the
// client to hang up) and then answer 504 without having done anything.
func (g *GitHub) StallNext(method, route string, count int, d time.Duration) {
	g.mustServe("StallNext", method, route)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.faults.stalled == nil {
		g.faults.stalled = map[string]int{}
	}
	g.faults.stalled[method+" "+route] += count
	g.faults.cfg.Stall = d
}

func (g *GitHub) mustServe(caller, method, route string) {
	for _, rt := range Routes() {
		if rt.Method == method && rt.Path == route {
			return
		}
	}
	panic(fmt.Sprintf("fakegithub: %s: the fake serves no route %s %s", caller, method, route))
}

// faultKind is what befalls one request.
type faultKind int

const (
	noFault faultKind = iota
	faultServerError
	faultTimeout
	faultLostResponse
	faultSecondary
)

// drawFault decides the request's fault. Called with g.mu held.
func (g *GitHub) drawFault(rt *route, app bool) faultKind {
	key := rt.method + " " + rt.path
	if n := g.faults.lost[key]; n > 0 {
		g.faults.lost[key] = n - 1
		return faultLostResponse
	}
	if n := g.faults.stalled[key]; n > 0 {
		g.faults.stalled[key] = n - 1
		return faultTimeout
	}
	f := g.faults.cfg
	if g.faults.rnd == nil || (app && !f.AppRoutes) {
		return noFault
	}
	x := g.faults.rnd.Float64()
	for _, c := range []struct {
		share float64
		kind  faultKind
	}{
		{f.ServerError, faultServerError},
		{f.Timeout, faultTimeout},
		{f.LostResponse, faultLostResponse},
		{f.SecondaryLimit, faultSecondary},
	} {
		if x < c.share {
			if c.kind == faultLostResponse && rt.method == http.MethodGet {
				return noFault
			}
			return c.kind
		}
		x -= c.share
	}
	return noFault
}

// answerFault answers a request for the faults that prevent it from being
// carried out, and reports whether it did. Called with g.mu held; it
// releases it while stalling and takes it back.
func (g *GitHub) answerFault(kind faultKind, w http.ResponseWriter, r *http.Request) bool {
	switch kind {
	case faultServerError:
		writeError(w, http.StatusBadGateway, "Server Error")
		return true
	case faultSecondary:
		g.faults.secondaries++
		status := http.StatusTooManyRequests
		if g.faults.secondaries%2 == 0 {
			status = http.StatusForbidden
		}
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(g.faults.cfg.RetryAfter.Seconds()))))
		writeErrorBody(w, status, errorBody{
			Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		return true
	case faultTimeout:
		stall := g.faults.cfg.Stall
		g.mu.Unlock()
		select {
		case <-r.Context().Done():
		case <-time.After(stall):
		}
		g.mu.Lock()
		writeError(w, http.StatusGatewayTimeout, "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.")
		return true
	}
	return false
}

// lostResponseWriter swallows a handler's answer; the connection is closed
// once the handler is done.
type lostResponseWriter struct {
	header http.Header
}

func (l *lostResponseWriter) Header() http.Header         { return l.header }
func (l *lostResponseWriter) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostResponseWriter) WriteHeader(int)             {}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
