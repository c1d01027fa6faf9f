package fakegithub_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

func TestInstallationTokenExchange(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	tok, _, err := e.appClient(t).Apps.CreateInstallationToken(ctx, installationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.GetToken() == "" || !tok.GetExpiresAt().After(time.Now().Add(50*time.Minute)) {
		t.Fatalf("token = %+v", tok)
	}
	if tok.GetPermissions().GetContents() != "write" || tok.GetPermissions().GetChecks() != "write" {
		t.Fatalf("permissions = %+v", tok.GetPermissions())
	}
	repo, _, err := e.client(t, tok.GetToken()).Repositories.Get(ctx, "acme", "deploy")
	if err != nil || repo.GetDefaultBranch() != "main" || repo.GetOwner().GetLogin() != "acme" {
		t.Fatalf("repo = %+v (%v)", repo, err)
	}

	_, _, err = e.appClient(t).Apps.CreateInstallationToken(ctx, 999, nil)
	wantStatus(t, err, http.StatusNotFound, "Not Found")
}

func TestAppJWTValidation(t *testing.T) {
	e := newEnv(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"iat": now.Add(-30 * time.Second).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": appID}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	cases := map[string]struct {
		key    *rsa.PrivateKey
		claims jwt.MapClaims
		ok     bool
	}{
		"numeric iss":         {e.key, valid(), true},
		"string iss":          {e.key, with("iss", "42"), true},
		"expired":             {e.key, with("exp", now.Add(-time.Minute).Unix()), false},
		"exp over 10 minutes": {e.key, with("exp", now.Add(11*time.Minute).Unix()), false},
		"iat in the future":   {e.key, with("iat", now.Add(5*time.Minute).Unix()), false},
		"no iat":              {e.key, with("iat", nil), false},
		"wrong iss":           {e.key, with("iss", "43"), false},
		"non-numeric iss":     {e.key, with("iss", "flux-rollback"), false},
		"wrong key":           {otherKey, valid(), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := e.client(t, jwtFor(t, tc.key, tc.claims))
			_, _, err := c.Apps.CreateInstallationToken(ctx, installationID, nil)
			if tc.ok {
				if err != nil {
					t.Fatalf("valid JWT refused: %v", err)
				}
				return
			}
			wantStatus(t, err, http.StatusUnauthorized, "")
		})
	}
	t.Run("HS256", func(t *testing.T) {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, valid()).SignedString([]byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.client(t, s).Apps.CreateInstallationToken(ctx, installationID, nil)
		wantStatus(t, err, http.StatusUnauthorized, "A JSON web token could not be decoded")
	})
	t.Run("installation token on an app route", func(t *testing.T) {
		_, _, err := e.installationClient(t).Apps.CreateInstallationToken(ctx, installationID, nil)
		wantStatus(t, err, http.StatusUnauthorized, "A JSON web token could not be decoded")
	})
}

func TestAppRoutes(t *testing.T) {
	e := newEnv(t)
	app := e.appClient(t)
	got, _, err := app.Apps.Get(ctx, "")
	if err != nil || got.GetID() != appID || got.GetSlug() != "flux-rollback" {
		t.Fatalf("app = %+v (%v)", got, err)
	}
	insts, _, err := app.Apps.ListInstallations(ctx, nil)
	if err != nil || len(insts) != 1 || insts[0].GetID() != installationID || insts[0].GetAccount().GetLogin() != "acme" {
		t.Fatalf("installations = %+v (%v)", insts, err)
	}
	inst, _, err := app.Apps.FindRepositoryInstallation(ctx, "acme", "deploy")
	if err != nil || inst.GetID() != installationID {
		t.Fatalf("repo installation = %+v (%v)", inst, err)
	}
	e.gh.AddRepo("acme", "not-installed", fakegithub.RepoOptions{})
	_, _, err = app.Apps.FindRepositoryInstallation(ctx, "acme", "not-installed")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
}

func TestRepoAuthErrors(t *testing.T) {
	e := newEnv(t)
	e.gh.AddInstallation(202, "other")
	e.gh.AddRepo("other", "private", fakegithub.RepoOptions{Installation: 202, Private: true})

	_, _, err := e.client(t, "").Repositories.Get(ctx, "acme", "deploy")
	wantStatus(t, err, http.StatusUnauthorized, "Requires authentication")
	_, _, err = e.client(t, "ghs_unknown").Repositories.Get(ctx, "acme", "deploy")
	wantStatus(t, err, http.StatusUnauthorized, "Bad credentials")
	_, _, err = e.installationClient(t).Repositories.Get(ctx, "other", "private")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
	_, _, err = e.installationClient(t).Repositories.Get(ctx, "acme", "missing")
	wantStatus(t, err, http.StatusNotFound, "Not Found")

	token := e.gh.IssueToken(installationID)
	e.gh.ExpireTokens()
	_, _, err = e.client(t, token).Repositories.Get(ctx, "acme", "deploy")
	wantStatus(t, err, http.StatusUnauthorized, "Bad credentials")

	resp := rawRequest(t, http.MethodGet, e.srv.URL+"/no/such/route", "token "+e.gh.IssueToken(installationID))
	var body struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound || body.Message != "Not Found" || body.DocumentationURL == "" {
		t.Fatalf("unknown route: %d %+v", resp.StatusCode, body)
	}
	if resp.Header.Get("X-RateLimit-Limit") == "" {
		t.Fatal("the answer to an unknown route has no rate-limit headers")
	}
	if anon := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", ""); anon.StatusCode != http.StatusUnauthorized || anon.Header.Get("X-RateLimit-Remaining") == "" {
		t.Fatalf("unauthenticated: %d, headers %v", anon.StatusCode, anon.Header)
	}
}

func TestTokenScopes(t *testing.T) {
	key := testKey(t)
	gh := fakegithub.New(fakegithub.Options{
		AppID: appID, AppSlug: "flux-rollback", AppPublicKey: &key.PublicKey,
		Permissions: map[string]string{"contents": "read", "metadata": "read"},
	})
	e := &env{gh: gh, key: key}
	e.srv = newServer(t, gh)
	gh.AddInstallation(installationID, "acme")
	gh.AddRepo("acme", "deploy", fakegithub.RepoOptions{Installation: installationID})
	gh.AddRepo("acme", "other", fakegithub.RepoOptions{Installation: installationID})

	_, _, err := e.installationClient(t).Git.CreateBlob(ctx, "acme", "deploy", &github.Blob{Content: github.String("x")})
	wantStatus(t, err, http.StatusForbidden, "Resource not accessible by integration")

	_, _, err = e.appClient(t).Apps.CreateInstallationToken(ctx, installationID, &github.InstallationTokenOptions{
		Permissions: &github.InstallationPermissions{Contents: github.String("write")},
	})
	wantStatus(t, err, http.StatusUnprocessableEntity, "")

	tok, _, err := e.appClient(t).Apps.CreateInstallationToken(ctx, installationID, &github.InstallationTokenOptions{
		Repositories: []string{"deploy"},
	})
	if err != nil {
		t.Fatal(err)
	}
	scoped := e.client(t, tok.GetToken())
	if _, _, err := scoped.Repositories.Get(ctx, "acme", "deploy"); err != nil {
		t.Fatal(err)
	}
	_, _, err = scoped.Repositories.Get(ctx, "acme", "other")
	wantStatus(t, err, http.StatusNotFound, "Not Found")
}

func TestETagAndRateLimitHeaders(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	token := "token " + e.gh.IssueToken(installationID)
	url := e.srv.URL + "/repos/acme/deploy/git/ref/heads/main"
	first := rawRequest(t, http.MethodGet, url, token)
	etag := first.Header.Get("ETag")
	if first.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("first GET: %d, ETag %q", first.StatusCode, etag)
	}
	if first.Header.Get("X-RateLimit-Limit") != "5000" || first.Header.Get("X-RateLimit-Remaining") != "4999" || first.Header.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("rate-limit headers: %v", first.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", token)
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("conditional GET: %d %q", resp.StatusCode, body)
	}
	// Once the ref moves, the representation and its ETag change.
	if _, err := e.repo.Commit("main", fakegithub.CommitSpec{Message: "two", Author: fluxAuthor, Files: map[string]*fakegithub.File{"a": {Content: "2"}}}); err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Fatalf("GET after a change: %d, ETag %q (was %q)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
}
