package fakegithub

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v57/github"
)

// Manifest is a GitHub App manifest as the registration form receives it
// (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type Manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	Description        string            `json:"description,omitempty"`
	HookAttributes     HookAttributes    `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	CallbackURLs       []string          `json:"callback_urls,omitempty"`
	SetupURL           string            `json:"setup_url,omitempty"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// HookAttributes is the webhook of a manifest.
type HookAttributes struct {
	URL    string `json:"url"`
	Active *bool  `json:"active,omitempty"`
}

// pendingManifest is a manifest GitHub accepted, waiting for its code to be
// converted within the hour.
type pendingManifest struct {
	manifest Manifest
	owner    string // the organization, or "" for the user's account
	expires  time.Time
}

// Registration is an App created through the manifest flow.
type Registration struct {
	Manifest      Manifest
	Owner         string // the organization, or "" for the user's account
	AppID         int64
	Slug          string
	WebhookSecret string
}

// manifestSlug is how GitHub derives an App's slug from its name.
var manifestSlug = regexp.MustCompile(`[^a-z0-9]+`)

// serveManifestForm is the target of the registration form (a web page on
// GitHub, not an API route): it takes the posted manifest, and where GitHub
// would show the pre-filled page with its "Create GitHub App" button, it
// creates the App registration at once and redirects to the manifest's
// redirect_url with a temporary code and the state it was given.
func (g *GitHub) serveManifestForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var m Manifest
	if err := json.Unmarshal([]byte(r.PostForm.Get("manifest")), &m); err != nil {
		http.Error(w, "Invalid GitHub App configuration: the manifest is not JSON", http.StatusUnprocessableEntity)
		return
	}
	var missing []string
	for field, value := range map[string]string{"url": m.URL, "hook_attributes.url": m.HookAttributes.URL, "redirect_url": m.RedirectURL} {
		if value == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		http.Error(w, "Invalid GitHub App configuration: missing "+strings.Join(missing, ", "), http.StatusUnprocessableEntity)
		return
	}
	redirect, err := url.Parse(m.RedirectURL)
	if err != nil || redirect.Host == "" {
		http.Error(w, "Invalid GitHub App configuration: redirect_url", http.StatusUnprocessableEntity)
		return
	}
	code := randomHex(10)
	g.mu.Lock()
	if g.manifests == nil {
		g.manifests = map[string]*pendingManifest{}
	}
	g.manifests[code] = &pendingManifest{manifest: m, owner: r.PathValue("org"), expires: g.now().Add(time.Hour)}
	g.mu.Unlock()

	q := redirect.Query()
	q.Set("code", code)
	if state := r.URL.Query().Get("state"); state != "" {
		q.Set("state", state)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// appManifestConfig is the conversion's answer: go-github's AppConfig and
// the permissions and events GitHub adds to it.
type appManifestConfig struct {
	*github.AppConfig
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
}

// convertManifest is POST /app-manifests/{code}/conversions: the code is
// used once, within an hour; the answer holds the App's credentials, and from
// then on the fake is that App: its id and key authenticate, its installations
// get the manifest's permissions, and its webhooks go to the manifest's URL,
// signed with the new secret.
func (g *GitHub) convertManifest(c *call) {
	p, ok := g.manifests[c.param("code")]
	if !ok || g.now().After(p.expires) {
		c.notFound()
		return
	}
	delete(g.manifests, c.param("code"))

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	secret := randomHex(20)
	slug := strings.Trim(manifestSlug.ReplaceAllString(strings.ToLower(p.manifest.Name), "-"), "-")
	if slug == "" {
		slug = "app"
	}
	id := g.newID()

	g.opts.AppID = id
	g.opts.AppSlug = slug
	g.opts.AppName = p.manifest.Name
	g.opts.AppPublicKey = &key.PublicKey
	g.opts.Permissions = p.manifest.DefaultPermissions
	active := p.manifest.HookAttributes.Active == nil || *p.manifest.HookAttributes.Active
	if active {
		g.hook = webhookTarget{url: p.manifest.HookAttributes.URL, secret: secret}
	}
	g.registrations = append(g.registrations, Registration{Manifest: p.manifest, Owner: p.owner, AppID: id, Slug: slug, WebhookSecret: secret})

	ownerLogin := p.owner
	if ownerLogin == "" {
		ownerLogin = "octocat" // the signed-in user who submitted the form
	}
	owner := g.userLocked(ownerLogin)
	if p.owner != "" {
		owner.kind = "Organization"
	}
	now := ts(g.now())
	c.json(http.StatusCreated, appManifestConfig{
		AppConfig: &github.AppConfig{
			ID:            ptr(id),
			Slug:          ptr(slug),
			NodeID:        ptr(nodeID("Integration", id)),
			Owner:         g.userJSON(owner, c.apiURL()),
			Name:          ptr(p.manifest.Name),
			Description:   ptr(p.manifest.Description),
			ExternalURL:   ptr(p.manifest.URL),
			HTMLURL:       ptr(g.opts.WebURL + "/apps/" + slug),
			CreatedAt:     now,
			UpdatedAt:     now,
			ClientID:      ptr("Iv1." + randomHex(8)),
			ClientSecret:  ptr(randomHex(20)),
			WebhookSecret: ptr(secret),
			PEM:           ptr(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))),
		},
		Permissions: p.manifest.DefaultPermissions,
		Events:      p.manifest.DefaultEvents,
	})
}

// Registrations lists the Apps created through the manifest flow.
func (g *GitHub) Registrations() []Registration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Registration(nil), g.registrations...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
