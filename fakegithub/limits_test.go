package fakegithub_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v57/github"
)

func TestFailNext(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	gh := e.installationClient(t)
	e.gh.FailNext("POST", "/repos/{owner}/{repo}/git/refs", http.StatusBadGateway, 2)
	ref := &github.Reference{Ref: github.String("refs/heads/x"), Object: &github.GitObject{SHA: github.String(head)}}
	for i := 0; i < 2; i++ {
		_, _, err := gh.Git.CreateRef(ctx, "acme", "deploy", ref)
		wantStatus(t, err, http.StatusBadGateway, "Server Error")
	}
	if _, ok := e.repo.Ref("x"); ok {
		t.Fatal("a failed request changed the state")
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "deploy", ref); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	// Other routes are unaffected.
	e.gh.FailNext("GET", "/repos/{owner}/{repo}/git/ref/{ref}", http.StatusInternalServerError, 1)
	if _, _, err := gh.Git.GetCommit(ctx, "acme", "deploy", head); err != nil {
		t.Fatal(err)
	}

	defer func() {
		if recover() == nil {
			t.Fatal("FailNext accepted a route the fake does not serve")
		}
	}()
	e.gh.FailNext("POST", "/repos/{owner}/{repo}/git/ref", http.StatusInternalServerError, 1)
}

func TestPrimaryRateLimit(t *testing.T) {
	e := newEnv(t)
	gh := e.installationClient(t)
	e.gh.ExhaustRateLimit()
	_, _, err := gh.Repositories.Get(ctx, "acme", "deploy")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("error = %v, want a rate limit error", err)
	}
	if rl.Rate.Remaining != 0 || !rl.Rate.Reset.After(time.Now()) || rl.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("rate = %+v, status %d", rl.Rate, rl.Response.StatusCode)
	}
	e.gh.RestoreRateLimit()
	// go-github refuses to call while it believes the limit holds; a new
	// client sees the restored limit.
	if _, _, err := e.installationClient(t).Repositories.Get(ctx, "acme", "deploy"); err != nil {
		t.Fatal(err)
	}
}

func TestPrimaryRateLimitAfterRequests(t *testing.T) {
	e := newEnv(t)
	token := "token " + e.gh.IssueToken(installationID)
	e.gh.ExhaustRateLimitAfter(2, time.Hour)
	for i := range 2 {
		if resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", token); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d before the limit: %d", i+1, resp.StatusCode)
		}
	}
	resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", token)
	reset, _ := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
		time.Until(time.Unix(reset, 0)) < 59*time.Minute {
		t.Fatalf("request after the limit: %d, headers %v", resp.StatusCode, resp.Header)
	}
	e.gh.RestoreRateLimit()
	if resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", token); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the limit was restored: %d", resp.StatusCode)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	e := newEnv(t)
	e.gh.SecondaryRateLimitNext(http.StatusForbidden, 1, 30*time.Second)
	_, _, err := e.installationClient(t).Repositories.Get(ctx, "acme", "deploy")
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != 30*time.Second {
		t.Fatalf("error = %v, want a secondary rate limit with Retry-After 30s", err)
	}
	e.gh.SecondaryRateLimitNext(http.StatusTooManyRequests, 1, 60*time.Second)
	resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", "token "+e.gh.IssueToken(installationID))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("429: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := rawRequest(t, http.MethodGet, e.srv.URL+"/repos/acme/deploy", "token "+e.gh.IssueToken(installationID)); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the secondary limit: %d", resp.StatusCode)
	}
}

func TestRequestsAreRecorded(t *testing.T) {
	e := newEnv(t)
	seed(t, e.repo, map[string]string{"a": "1"})
	gh := e.installationClient(t)
	if _, _, err := gh.Git.GetRef(ctx, "acme", "deploy", "heads/main"); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.Git.CreateBlob(ctx, "acme", "deploy", &github.Blob{Content: github.String("hello"), Encoding: github.String("utf-8")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = e.client(t, "").Repositories.Get(ctx, "acme", "deploy")
	reqs := e.gh.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3", len(reqs))
	}
	get, post, anon := reqs[0], reqs[1], reqs[2]
	if get.Route != "GET /repos/{owner}/{repo}/git/ref/{ref}" || get.Path != "/repos/acme/deploy/git/ref/heads/main" || get.Status != 200 || get.InstallationID != installationID {
		t.Fatalf("GET = %+v", get)
	}
	if post.Route != "POST /repos/{owner}/{repo}/git/blobs" || post.Status != 201 || !strings.Contains(string(post.RequestBody), `"hello"`) || !strings.Contains(string(post.ResponseBody), `"sha"`) {
		t.Fatalf("POST = %+v", post)
	}
	if anon.Status != http.StatusUnauthorized || anon.InstallationID != 0 {
		t.Fatalf("anonymous = %+v", anon)
	}
	e.gh.ResetRequests()
	if n := len(e.gh.Requests()); n != 0 {
		t.Fatalf("%d requests after reset", n)
	}
}
