package fakegithub

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v57/github"
)

// accessToken is an installation access token handed out by
// POST /app/installations/{id}/access_tokens.
type accessToken struct {
	installationID int64
	expiresAt      time.Time
	permissions    map[string]string
	repoIDs        map[int64]bool // nil: every repository of the installation
}

// permissionLevels orders access levels.
var permissionLevels = map[string]int{"read": 1, "write": 2, "admin": 3}

// allows reports whether the token grants perm ("contents:write"), or one of
// its "|"-separated alternatives.
func (t *accessToken) allows(perm string) bool {
	for _, alt := range strings.Split(perm, "|") {
		name, level, _ := strings.Cut(alt, ":")
		if permissionLevels[t.permissions[name]] >= permissionLevels[level] {
			return true
		}
	}
	return false
}

func (t *accessToken) canSee(repoID int64) bool {
	return t.repoIDs == nil || t.repoIDs[repoID]
}

// bearer returns the credential of an Authorization header ("token X" or
// "Bearer X"), or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(cred)
	}
	return ""
}

// authenticateApp verifies the app's JWT as GitHub does: RS256 with the
// app's key, iss the app id (a number or a numeric string), iat not in the
// future, exp in the future and at most 10 minutes after iat. Callers hold
// g.mu.
func (g *GitHub) authenticateApp(c *call) bool {
	raw := bearer(c.r)
	if raw == "" {
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	if g.opts.AppPublicKey == nil {
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	if _, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return g.opts.AppPublicKey, nil
	}); err != nil {
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	now := g.opts.Now()
	iat, okIat := numericClaim(claims["iat"])
	exp, okExp := numericClaim(claims["exp"])
	switch {
	case !okIat || iat > now.Unix()+60: // GitHub tolerates a minute of clock drift
		c.fail(http.StatusUnauthorized, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
		return false
	case !okExp || exp <= now.Unix():
		c.fail(http.StatusUnauthorized, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
		return false
	case exp-iat > int64((10 * time.Minute).Seconds()):
		c.fail(http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future")
		return false
	}
	iss, ok := numericClaim(claims["iss"])
	if !ok {
		c.fail(http.StatusUnauthorized, "'Issuer' claim ('iss') must be an Integer")
		return false
	}
	if iss != g.opts.AppID {
		c.fail(http.StatusUnauthorized, "Integration not found")
		return false
	}
	return true
}

// numericClaim accepts a JSON number or a string holding an integer.
func numericClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		if err != nil {
			f, ferr := strconv.ParseFloat(fmt.Sprint(n), 64)
			return int64(f), ferr == nil
		}
		return i, true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// authenticateInstallation checks an installation access token. Callers
// hold g.mu.
func (g *GitHub) authenticateInstallation(c *call) bool {
	raw := bearer(c.r)
	if raw == "" {
		c.fail(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	t, ok := g.tokens[raw]
	if !ok || !g.opts.Now().Before(t.expiresAt) {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	if _, ok := g.installations[t.installationID]; !ok {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	c.token = t
	return true
}

// ExpireTokens makes every installation token issued so far invalid, as if
// an hour had passed.
func (g *GitHub) ExpireTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.tokens {
		t.expiresAt = time.Time{}
	}
}

// IssueToken returns a valid installation token without going through the
// JWT exchange, for tests that talk to the API directly.
func (g *GitHub) IssueToken(installationID int64) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.installations[installationID]; !ok {
		panic(fmt.Sprintf("fakegithub: IssueToken: unknown installation %d", installationID))
	}
	raw, _ := g.issueTokenLocked(installationID, copyPermissions(g.opts.Permissions), nil)
	return raw
}

// IssueTokenWith returns a valid token of the installation with other
// permissions than the App's, such as one with statuses:write that plays
// another integration (Flux's Provider) posting on the same repositories.
func (g *GitHub) IssueTokenWith(installationID int64, permissions map[string]string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.installations[installationID]; !ok {
		panic(fmt.Sprintf("fakegithub: IssueTokenWith: unknown installation %d", installationID))
	}
	raw, _ := g.issueTokenLocked(installationID, copyPermissions(permissions), nil)
	return raw
}

func copyPermissions(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func (g *GitHub) issueTokenLocked(installationID int64, perms map[string]string, repoIDs map[int64]bool) (string, *accessToken) {
	raw := "ghs_" + randomString(36)
	t := &accessToken{
		installationID: installationID,
		expiresAt:      g.now().Add(time.Hour),
		permissions:    perms,
		repoIDs:        repoIDs,
	}
	g.tokens[raw] = t
	return raw, t
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(base62))))
		if err != nil {
			panic(fmt.Sprintf("fakegithub: read random: %v", err))
		}
		b[i] = base62[k.Int64()]
	}
	return string(b)
}

// createAccessToken serves POST /app/installations/{installation_id}/access_tokens.
func (g *GitHub) createAccessToken(c *call) {
	inst := g.installationParam(c)
	if inst == nil {
		return
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if len(strings.TrimSpace(string(c.body))) > 0 && !c.decode(&req) {
		return
	}
	perms := copyPermissions(g.opts.Permissions)
	if len(req.Permissions) > 0 {
		for name, level := range req.Permissions {
			if permissionLevels[perms[name]] < permissionLevels[level] || permissionLevels[level] == 0 {
				c.unprocessable("The permissions requested are not granted to this installation.")
				return
			}
		}
		perms = copyPermissions(req.Permissions)
	}
	var repoIDs map[int64]bool
	var repos []*github.Repository
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		repoIDs = map[int64]bool{}
		visible := g.installationReposLocked(inst.ID)
		for _, name := range req.Repositories {
			r := findByName(visible, name)
			if r == nil {
				c.unprocessable("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			repoIDs[r.id] = true
		}
		for _, id := range req.RepositoryIDs {
			r := findByID(visible, id)
			if r == nil {
				c.unprocessable("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			repoIDs[r.id] = true
		}
		for _, r := range visible {
			if repoIDs[r.id] {
				repos = append(repos, g.repoJSON(r, c.apiURL()))
			}
		}
	}
	raw, t := g.issueTokenLocked(inst.ID, perms, repoIDs)
	selection := "selected"
	resp := struct {
		Token               string               `json:"token"`
		ExpiresAt           string               `json:"expires_at"`
		Permissions         map[string]string    `json:"permissions"`
		RepositorySelection string               `json:"repository_selection"`
		Repositories        []*github.Repository `json:"repositories,omitempty"`
	}{raw, t.expiresAt.Format(time.RFC3339), perms, selection, repos}
	c.json(http.StatusCreated, resp)
}

func findByName(repos []*Repo, name string) *Repo {
	for _, r := range repos {
		if strings.EqualFold(r.name, name) || strings.EqualFold(r.fullName(), name) {
			return r
		}
	}
	return nil
}

func findByID(repos []*Repo, id int64) *Repo {
	for _, r := range repos {
		if r.id == id {
			return r
		}
	}
	return nil
}
