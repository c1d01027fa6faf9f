package server

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v57/github"
)

// newAppClient returns a client authenticated as the App (its JWT), for the
// redelivery sweeper. go-githubapp's app client signs a new JWT, an RSA
// signature, for every request; a sweep after a burst makes hundreds, so this
// one signs once and reuses the token until a minute before it expires.
func newAppClient(cfg *Config, transport http.RoundTripper) (*github.Client, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(cfg.GitHub.App.PrivateKey))
	if err != nil {
		// The parser's messages never quote the key.
		return nil, fmt.Errorf("parse the App's private key: %w", err)
	}
	base, err := url.Parse(cfg.GitHub.V3APIURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", cfg.GitHub.V3APIURL, err)
	}
	if base.Path == "" || base.Path[len(base.Path)-1] != '/' {
		base.Path += "/"
	}
	client := github.NewClient(&http.Client{Transport: &appJWT{next: transport, appID: cfg.GitHub.App.IntegrationID, key: key}})
	client.BaseURL = base
	return client, nil
}

// appJWT authenticates requests with the App's JWT.
type appJWT struct {
	next  http.RoundTripper
	appID int64
	key   *rsa.PrivateKey

	mu      sync.Mutex
	token   string
	expires time.Time
}

// jwtLifetime is how long a JWT is valid; GitHub accepts at most 10 minutes.
const jwtLifetime = 9 * time.Minute

func (t *appJWT) RoundTrip(req *http.Request) (*http.Response, error) {
	token, err := t.get()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+token)
	return t.next.RoundTrip(req)
}

func (t *appJWT) get() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.token != "" && now.Before(t.expires.Add(-time.Minute)) {
		return t.token, nil
	}
	claims := jwt.RegisteredClaims{
		// A minute in the past, against clock drift, as GitHub advises.
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(jwtLifetime)),
		Issuer:    strconv.FormatInt(t.appID, 10),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign the App's JWT: %w", err)
	}
	t.token, t.expires = token, now.Add(jwtLifetime)
	return token, nil
}
