package fakegithub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// documentationURL is what GitHub puts in error bodies; any docs URL will do
// except for rate limits, where go-github looks at the suffix.
const documentationURL = "https://docs.github.com/rest"

// authKind is how a route authenticates.
type authKind int

const (
	authNone         authKind = iota
	authApp                   // Authorization: Bearer <JWT signed by the app>
	authInstallation          // Authorization: token|Bearer <installation token>
)

// route is one REST endpoint. path is GitHub's OpenAPI template
// ("/repos/{owner}/{repo}/git/refs/{ref}"); rest names the final parameter
// that may contain slashes (refs, paths, tree-ish forms).
type route struct {
	method string
	path   string
	auth   authKind
	// perm is what the installation needs ("contents:write"); alternatives
	// are separated by "|".
	perm string
	// unlocked handlers take g.mu themselves (they deliver webhooks, which
	// must not hold the lock).
	unlocked bool
	handle   func(*call)
}

// Route names an endpoint served by the fake, as "METHOD /path/{template}".
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// restParams may contain slashes, so the mux pattern ends in {name...}.
var restParams = map[string]bool{"ref": true, "path": true, "tree_sha": true, "basehead": true, "branch": true}

func (rt *route) muxPattern() string {
	p := rt.path
	if i := strings.LastIndex(p, "/{"); i >= 0 && strings.HasSuffix(p, "}") {
		name := p[i+2 : len(p)-1]
		if restParams[name] {
			p = p[:len(p)-1] + "...}"
		}
	}
	return rt.method + " " + p
}

// Routes lists every API route the fake serves.
func Routes() []Route {
	g := &GitHub{}
	var out []Route
	for _, rt := range g.routes() {
		out = append(out, Route{Method: rt.method, Path: rt.path})
	}
	return out
}

func (g *GitHub) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range g.routes() {
		mux.Handle(rt.muxPattern(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.serveRoute(rt, w, r)
		}))
	}
	// Not an API route: the target of download_url in contents responses
	// (raw.githubusercontent.com on GitHub), which go-github's
	// DownloadContents fetches for files over 1 MB.
	mux.HandleFunc("GET /raw/{owner}/{repo}/{sha}/{path...}", g.serveRaw)
	// Not API routes either: the registration form of the App manifest
	// flow, on a user's account and on an organization.
	mux.HandleFunc("POST /settings/apps/new", g.serveManifestForm)
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", g.serveManifestForm)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.limits.preview(w.Header(), "anonymous")
		g.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found")
	})
	return mux
}

// Request is one API request the fake answered.
type Request struct {
	Method         string
	Route          string // "GET /repos/{owner}/{repo}/git/ref/{ref}"; "" when no route matched
	Path           string // as sent, with the query
	Status         int
	RequestBody    []byte
	ResponseBody   []byte
	InstallationID int64 // the installation whose token authenticated it, or 0
	App            bool  // authenticated with the app's JWT
	Time           time.Time
}

// Requests returns every request answered since New or ResetRequests.
func (g *GitHub) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.requests...)
}

// ResetRequests forgets the recorded requests.
func (g *GitHub) ResetRequests() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = nil
}

// recorder captures what a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	// set by serveRoute
	route          string
	installationID int64
	app            bool
	lost           bool // the answer is dropped: LoseResponseNext, Faults.LostResponse
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// ServeHTTP serves the REST API.
func (g *GitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := g.latency(); d > 0 {
		time.Sleep(d)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems reading the request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w}
	g.mux.ServeHTTP(rec, r)
	g.mu.Lock()
	defer func() {
		g.mu.Unlock()
		if rec.lost {
			// Recorded first, so that a client that sees the connection
			// drop finds the request in Requests.
			dropConnection(w)
		}
	}()
	g.requests = append(g.requests, Request{
		Method:         r.Method,
		Route:          rec.route,
		Path:           r.URL.RequestURI(),
		Status:         rec.status,
		RequestBody:    body,
		ResponseBody:   rec.body.Bytes(),
		InstallationID: rec.installationID,
		App:            rec.app,
		Time:           g.now(),
	})
}

// call is one request being handled by a route.
type call struct {
	g     *GitHub
	w     http.ResponseWriter
	r     *http.Request
	rt    *route
	body  []byte
	token *accessToken // installation routes
	repo  *Repo        // routes under /repos/{owner}/{repo}
	base  string       // API base URL when rendering outside a request (webhooks)
}

func (c *call) param(name string) string { return c.r.PathValue(name) }

// apiURL is the base URL of this API as the client sees it.
func (c *call) apiURL() string {
	if c.base != "" {
		return c.base
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

func (g *GitHub) serveRoute(rt *route, w http.ResponseWriter, r *http.Request) {
	rec, ok := w.(*recorder)
	if !ok {
		rec = &recorder{ResponseWriter: w}
	}
	rec.route = rt.method + " " + rt.path
	body, _ := io.ReadAll(r.Body)
	c := &call{g: g, w: w, r: r, rt: rt, body: body}

	g.mu.Lock()
	locked := true
	defer func() {
		if locked {
			g.mu.Unlock()
		}
	}()
	if !g.apiURLSet {
		g.apiURL = c.apiURL()
	}
	identity := "anonymous"
	g.limits.preview(w.Header(), identity)
	switch rt.auth {
	case authApp:
		if !g.authenticateApp(c) {
			return
		}
		rec.app = true
		identity = "app"
	case authInstallation:
		if !g.authenticateInstallation(c) {
			return
		}
		rec.installationID = c.token.installationID
		identity = "installation:" + strconv.FormatInt(c.token.installationID, 10)
	}
	if !g.limits.admit(w, identity, g.now()) {
		return
	}
	if g.injectFailure(w, rt) {
		return
	}
	if g.staleList(rt, w, r) {
		return
	}
	fault := g.drawFault(rt, rt.auth != authInstallation)
	if g.answerFault(fault, w, r) {
		return
	}
	if fault == faultLostResponse {
		// The work is done; the answer never arrives.
		c.w = &lostResponseWriter{header: http.Header{}}
		rec.lost = true
	}
	if strings.HasPrefix(rt.path, "/repos/{owner}/{repo}") && !g.findRepo(c) {
		return
	}
	if rt.perm != "" && c.token != nil && !c.token.allows(rt.perm) {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	if rt.unlocked {
		locked = false
		g.mu.Unlock()
	}
	rt.handle(c)
}

// findRepo resolves {owner}/{repo} for the token's installation: a repo the
// installation cannot see is answered like one that does not exist.
func (g *GitHub) findRepo(c *call) bool {
	repo := g.repos[strings.ToLower(c.param("owner")+"/"+c.param("repo"))]
	visible := repo != nil
	if visible && c.token != nil {
		visible = repo.installationID == c.token.installationID && c.token.canSee(repo.id)
	}
	if !visible {
		writeError(c.w, http.StatusNotFound, "Not Found")
		return false
	}
	c.repo = repo
	return true
}

type errorBody struct {
	Message          string            `json:"message"`
	Errors           []validationError `json:"errors,omitempty"`
	DocumentationURL string            `json:"documentation_url"`
	Status           string            `json:"status"`
}

// validationError is one entry of a 422's errors list.
type validationError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeErrorBody(w, status, errorBody{Message: message, DocumentationURL: documentationURL})
}

func writeErrorBody(w http.ResponseWriter, status int, body errorBody) {
	body.Status = strconv.Itoa(status)
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (c *call) fail(status int, message string) { writeError(c.w, status, message) }

func (c *call) notFound() { c.fail(http.StatusNotFound, "Not Found") }

// unprocessable answers 422 with a specific message, as GitHub does for most
// git data and pull request errors.
func (c *call) unprocessable(message string) { c.fail(http.StatusUnprocessableEntity, message) }

// validationFailed answers GitHub's generic 422.
func (c *call) validationFailed(errs ...validationError) {
	writeErrorBody(c.w, http.StatusUnprocessableEntity, errorBody{
		Message: "Validation Failed", Errors: errs, DocumentationURL: documentationURL,
	})
}

// failErr maps the errors of the object layer onto GitHub's answers.
func (c *call) failErr(err error) {
	switch {
	case errors.Is(err, errNotFound):
		c.notFound()
	case errors.Is(err, errMissingPath):
		c.unprocessable(errMissingPath.Error())
	case errors.Is(err, errInvalid):
		c.unprocessable(strings.TrimPrefix(err.Error(), errInvalid.Error()+": "))
	default:
		c.fail(http.StatusInternalServerError, fmt.Sprintf("Server Error: %v", err))
	}
}

// decode parses the JSON request body; on failure it answers 400 as GitHub
// does and returns false.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// json writes a JSON response. GETs carry an ETag and answer 304 when the
// client already has this representation, with GitHub's caching headers.
func (c *call) json(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, fmt.Sprintf("Server Error: encode response: %v", err))
		return
	}
	writeJSON(c.w, c.r, status, b)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && status == http.StatusOK {
		sum := sha256.Sum256(b)
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// etagMatches compares If-None-Match with an ETag weakly, as RFC 9110 asks
// for If-None-Match.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, candidate := range strings.Split(header, ",") {
		if strings.TrimSpace(candidate) == "*" || strip(candidate) == strip(etag) {
			return true
		}
	}
	return false
}

// wantsMedia reports whether the Accept header asks for a custom media type
// such as "raw" (application/vnd.github.raw, application/vnd.github.v3.raw).
func (c *call) wantsMedia(kind string) bool {
	accept := c.r.Header.Get("Accept")
	return strings.Contains(accept, "vnd.github."+kind) || strings.Contains(accept, "vnd.github.v3."+kind)
}

// raw answers with bytes instead of JSON (custom media types), with the
// same ETag handling as JSON.
func (c *call) raw(b []byte) {
	h := c.w.Header()
	h.Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	if c.wantsMedia("sha") {
		etag = `"` + string(b) + `"`
	}
	h.Set("ETag", etag)
	if etagMatches(c.r.Header.Get("If-None-Match"), etag) {
		c.w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(b)
}

func (c *call) noContent() {
	c.w.WriteHeader(http.StatusNoContent)
}

// queryInt reads an integer query parameter with a default.
func (c *call) queryInt(name string, def int) int {
	v, err := strconv.Atoi(c.r.URL.Query().Get(name))
	if err != nil || v <= 0 {
		return def
	}
	return v
}

// paginate slices items per the page and per_page query parameters (GitHub's
// defaults: 30 per page, at most 100) and sets the Link header.
func paginate[T any](c *call, items []T) []T {
	perPage := c.queryInt("per_page", 30)
	if perPage > 100 {
		perPage = 100
	}
	page := c.queryInt("page", 1)
	last := (len(items) + perPage - 1) / perPage
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := *c.r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, c.apiURL(), u.RequestURI(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * perPage
	if start >= len(items) {
		return []T{}
	}
	end := min(start+perPage, len(items))
	return items[start:end]
}
