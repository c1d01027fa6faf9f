// Package register registers flux-rollback as a GitHub App through GitHub's
// App manifest flow
// (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// it serves, on a loopback address, a page that posts the App's manifest to
// GitHub's registration form; GitHub creates the App and redirects back with
// a temporary code, which is exchanged for the App's id, webhook secret and
// private key (POST /app-manifests/{code}/conversions).
package register

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/handlers"
)

// Manifest is a GitHub App manifest, as GitHub documents its parameters.
type Manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	Description        string            `json:"description,omitempty"`
	HookAttributes     HookAttributes    `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// HookAttributes is the App's webhook.
type HookAttributes struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

// Defaults of Options.
const (
	DefaultName     = "flux-rollback"
	DefaultHomepage = "https://github.com/fluxrollback/flux-rollback"
	DefaultWebURL   = "https://github.com"
	// DefaultListen lets the system pick a free loopback port.
	DefaultListen = "127.0.0.1:0"
	// codeLifetime is how long GitHub accepts the temporary code.
	codeLifetime = time.Hour
)

// Options describes the App to register and where.
type Options struct {
	// Name of the App; GitHub's form lets the person registering change
	// it. App names are unique on a GitHub instance.
	Name string
	// WebhookURL is where GitHub delivers webhooks: the server's
	// https://<host>/api/github/hook.
	WebhookURL string
	// Homepage is the App's homepage URL.
	Homepage string
	// Org registers the App on an organization; empty means the account of
	// the person who submits the form.
	Org string
	// WebURL is GitHub's web address (https://github.com, or a GitHub
	// Enterprise Server's https://HOSTNAME).
	WebURL string
	// APIURL is the REST API; empty derives it from WebURL
	// (https://api.github.com/ or https://HOSTNAME/api/v3/).
	APIURL string
	// Public lets other accounts install the App.
	Public bool
	// Listen is the loopback address of the local page.
	Listen string
	// HTTPClient calls GitHub's API; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Ready is called with the local page's URL once it is served, for the
	// caller to open in a browser.
	Ready func(pageURL string)
}

func (o *Options) setDefaults() error {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Homepage == "" {
		o.Homepage = DefaultHomepage
	}
	if o.WebURL == "" {
		o.WebURL = DefaultWebURL
	}
	o.WebURL = strings.TrimSuffix(o.WebURL, "/")
	web, err := url.Parse(o.WebURL)
	if err != nil || (web.Scheme != "https" && web.Scheme != "http") || web.Host == "" {
		return fmt.Errorf("GitHub URL %q is not an http(s) URL", o.WebURL)
	}
	if o.APIURL == "" {
		o.APIURL = APIURLFor(o.WebURL)
	}
	if o.WebhookURL == "" {
		return errors.New("the webhook URL is missing: give the server's https://<host>/api/github/hook")
	}
	hook, err := url.Parse(o.WebhookURL)
	if err != nil || (hook.Scheme != "https" && hook.Scheme != "http") || hook.Host == "" {
		return fmt.Errorf("webhook URL %q is not an http(s) URL", o.WebhookURL)
	}
	if hook.Path == "" || hook.Path == "/" {
		hook.Path = "/api/github/hook"
		o.WebhookURL = hook.String()
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	return nil
}

// APIURLFor is the REST API of a GitHub web address: api.github.com for
// github.com, /api/v3/ on a GitHub Enterprise Server.
func APIURLFor(webURL string) string {
	u, err := url.Parse(strings.TrimSuffix(webURL, "/"))
	if err == nil && (u.Host == "github.com" || u.Host == "www.github.com") {
		return "https://api.github.com/"
	}
	return strings.TrimSuffix(webURL, "/") + "/api/v3/"
}

// NewManifest is the manifest of flux-rollback's App: the permissions and
// events its handlers need (handlers.Permissions, handlers.Events).
func NewManifest(opts Options, redirectURL string) Manifest {
	perms := make(map[string]string, len(handlers.Permissions))
	for k, v := range handlers.Permissions {
		perms[k] = v
	}
	return Manifest{
		Name:               opts.Name,
		URL:                opts.Homepage,
		Description:        "One-click rollback pull requests for Flux CD image releases.",
		HookAttributes:     HookAttributes{URL: opts.WebhookURL, Active: true},
		RedirectURL:        redirectURL,
		Public:             opts.Public,
		DefaultPermissions: perms,
		DefaultEvents:      handlers.Events(),
	}
}

// FormURL is GitHub's registration form for the account (Org empty) or
// the organization, with the state that must come back.
func FormURL(webURL, org, state string) string {
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	return strings.TrimSuffix(webURL, "/") + path + "?state=" + url.QueryEscape(state)
}

// InstallURL is where the App's owner installs it.
func InstallURL(app *github.AppConfig) string {
	return strings.TrimSuffix(app.GetHTMLURL(), "/") + "/installations/new"
}

// Run serves the local page, waits for GitHub's redirect, exchanges the code
// and returns the App with its credentials. It returns when that is done,
// when ctx ends, or after an hour (the code's lifetime).
func Run(ctx context.Context, opts Options) (*github.AppConfig, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for the registration page: %w", err)
	}
	if addr, ok := ln.Addr().(*net.TCPAddr); !ok || !addr.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("the registration page must listen on a loopback address, not %s", ln.Addr())
	}
	base := "http://" + ln.Addr().String()
	state, err := randomState()
	if err != nil {
		ln.Close()
		return nil, err
	}
	f := &flow{
		opts:     opts,
		state:    state,
		manifest: NewManifest(opts, base+"/callback"),
		done:     make(chan result, 1),
	}
	srv := &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if opts.Ready != nil {
		opts.Ready(base + "/")
	}

	ctx, cancel := context.WithTimeout(ctx, codeLifetime)
	defer cancel()
	select {
	case r := <-f.done:
		return r.app, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer from GitHub: %w", ctx.Err())
	}
}

type result struct {
	app *github.AppConfig
	err error
}

type flow struct {
	opts     Options
	state    string
	manifest Manifest
	done     chan result
	finished atomic.Bool // a code is converted once
}

func (f *flow) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.page)
	mux.HandleFunc("GET /callback", f.callback)
	return securityHeaders(mux)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Register {{.Name}}</title></head>
<body>
<p>Sending the App's manifest to GitHub ({{.Target}})…</p>
<form id="register" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Register {{.Name}} on GitHub</button>
</form>
<script>document.getElementById("register").submit()</script>
</body></html>
`))

// page posts the manifest to GitHub's form at once (and offers the button
// where scripts do not run).
func (f *flow) page(w http.ResponseWriter, _ *http.Request) {
	manifest, err := json.Marshal(f.manifest)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	target := "your account"
	if f.opts.Org != "" {
		target = "organization " + f.opts.Org
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate.Execute(w, struct{ Name, Target, Action, Manifest string }{
		f.manifest.Name, target + " on " + f.opts.WebURL, FormURL(f.opts.WebURL, f.opts.Org, f.state), string(manifest),
	})
}

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Link}}<p><a href="{{.Link}}">{{.Link}}</a></p>{{end}}</body></html>
`))

// callback receives GitHub's redirect and converts the code once.
func (f *flow) callback(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.state)) != 1 {
		// Not the answer to this page's form: ignore it and keep waiting.
		w.WriteHeader(http.StatusBadRequest)
		_ = donePage.Execute(w, map[string]string{"Title": "Unexpected request", "Text": "The state does not match the registration this page started; nothing was done."})
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" || !f.finished.CompareAndSwap(false, true) {
		w.WriteHeader(http.StatusBadRequest)
		_ = donePage.Execute(w, map[string]string{"Title": "Nothing to do", "Text": "No code, or the registration is already complete."})
		return
	}
	app, err := f.convert(r.Context(), code)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		_ = donePage.Execute(w, map[string]string{"Title": "Registration failed", "Text": err.Error()})
		f.done <- result{err: err}
		return
	}
	_ = donePage.Execute(w, map[string]string{
		"Title": "Registered " + app.GetName(),
		"Text":  "The App's credentials were handed to the flux-rollback command. Install the App on your repositories:",
		"Link":  InstallURL(app),
	})
	f.done <- result{app: app}
}

// convert exchanges the temporary code for the App's configuration.
func (f *flow) convert(ctx context.Context, code string) (*github.AppConfig, error) {
	client := github.NewClient(f.opts.HTTPClient)
	base, err := url.Parse(strings.TrimSuffix(f.opts.APIURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("API URL %q: %w", f.opts.APIURL, err)
	}
	client.BaseURL = base
	app, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("exchange the code for the App's credentials: %w", err)
	}
	if app.GetID() == 0 || app.GetPEM() == "" || app.GetWebhookSecret() == "" {
		return nil, errors.New("GitHub's answer lacks the App's id, private key or webhook secret")
	}
	return app, nil
}

// securityHeaders keeps the local page from being framed or cached.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func randomState() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate the state: %w", err)
	}
	return hex.EncodeToString(b), nil
}
