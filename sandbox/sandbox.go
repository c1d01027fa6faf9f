// Package sandbox runs flux-rollback against the embedded GitHub, both on
// loopback ports in one process: the demo and the end-to-end tests use it
// to play real flows through real HTTP and real signed webhooks.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/server"
)

// Defaults of the sandbox's GitHub App and installation.
const (
	AppID          = 4242
	AppSlug        = "flux-rollback"
	InstallationID = 101
)

// Options configures a sandbox.
type Options struct {
	// Logger receives the server's logs; zerolog.Nop() when unset.
	Logger *zerolog.Logger
	// Configure adjusts the server configuration before the server starts.
	Configure func(*server.Config)
	// Version stamps the server.
	Version string
	// Now is the embedded GitHub's clock; time.Now when unset. A test that
	// compares what the App shows of two reports fixes it, so that the
	// times GitHub stamps on them are the same.
	Now func() time.Time
	// WithoutApp starts the embedded GitHub alone: the caller runs the App
	// (in another process, say) with AppConfig and points GitHub's webhook
	// at it with GitHub.SetWebhook(url, WebhookSecret).
	WithoutApp bool
}

// Sandbox is a running embedded GitHub and a running flux-rollback server
// that receives its webhooks.
type Sandbox struct {
	GitHub   *fakegithub.GitHub
	Server   *server.Server
	Registry metrics.Registry
	// GitHubURL and AppURL are the two servers' base URLs.
	GitHubURL, AppURL string
	// WebhookSecret signs the deliveries; shown only by the demo's --keep.
	WebhookSecret string
	// AppConfig is the configuration the App runs with against the
	// embedded GitHub (with Options.Configure applied).
	AppConfig *server.Config

	installations map[int64]bool // created through AddGitOpsRepo
	githubServer  *http.Server
	stopApp       context.CancelFunc
	appDone       chan error
	closeOnce     sync.Once
	closeErr      error
}

// Start starts the embedded GitHub and the flux-rollback server on loopback
// ports and points GitHub's webhook at the server.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate the App's key: %w", err)
	}
	secret, err := randomHex(20)
	if err != nil {
		return nil, fmt.Errorf("generate the webhook secret: %w", err)
	}

	// GitHub delivers many webhooks at once in a burst; keep as many
	// connections to the App open as it does.
	webhooks := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	gh := fakegithub.New(fakegithub.Options{AppID: AppID, AppSlug: AppSlug, AppName: "flux-rollback", AppPublicKey: &key.PublicKey, HTTPClient: webhooks, Now: opts.Now})
	ghListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the embedded GitHub: %w", err)
	}
	s := &Sandbox{GitHub: gh, GitHubURL: "http://" + ghListener.Addr().String(), WebhookSecret: secret, installations: map[int64]bool{}}
	gh.SetBaseURL(s.GitHubURL)
	s.githubServer = &http.Server{Handler: gh, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.githubServer.Serve(ghListener) }()

	cfg := server.DefaultConfig()
	cfg.Server.Address = "127.0.0.1"
	cfg.Server.Port = 0
	cfg.Server.ShutdownTimeout = 10 * time.Second
	cfg.GitHub.WebURL = s.GitHubURL
	cfg.GitHub.V3APIURL = s.GitHubURL + "/"
	cfg.GitHub.V4APIURL = s.GitHubURL + "/graphql"
	cfg.GitHub.App.IntegrationID = AppID
	cfg.GitHub.App.WebhookSecret = secret
	cfg.GitHub.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	// A push is handled before its delivery is answered, so that a test
	// sees its check runs when Push returns; no sweeper redelivers behind a
	// test's back; no delay at shutdown. Configure may turn them on.
	cfg.Rollback.QueueSize = 0
	cfg.Redelivery.Interval = 0
	cfg.Server.ShutdownDelay = 0
	if opts.Configure != nil {
		opts.Configure(cfg)
	}
	s.AppConfig = cfg
	if opts.WithoutApp {
		return s, nil
	}

	logger := zerolog.Nop()
	if opts.Logger != nil {
		logger = *opts.Logger
	}
	version := opts.Version
	if version == "" {
		version = "sandbox"
	}
	s.Registry = metrics.NewRegistry()
	app, err := server.New(cfg, server.WithLogger(logger), server.WithVersion(version), server.WithRegistry(s.Registry))
	if err != nil {
		s.closeGitHub()
		return nil, fmt.Errorf("create the flux-rollback server: %w", err)
	}
	appListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.closeGitHub()
		return nil, fmt.Errorf("listen for flux-rollback: %w", err)
	}
	s.Server = app
	s.AppURL = "http://" + appListener.Addr().String()
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopApp = stop
	s.appDone = make(chan error, 1)
	go func() { s.appDone <- app.Run(runCtx, appListener) }()
	select {
	case <-app.Ready():
	case err := <-s.appDone:
		s.closeGitHub()
		return nil, fmt.Errorf("run flux-rollback: %w", err)
	}
	gh.SetWebhook(s.AppURL+server.WebhookRoute, secret)
	return s, nil
}

// Close stops the server (letting in-flight events finish) and GitHub.
// Closing again returns the first Close's result.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		var err error
		if s.stopApp != nil {
			s.stopApp()
			err = <-s.appDone
		}
		s.closeErr = errors.Join(err, s.closeGitHub())
	})
	return s.closeErr
}

// closeGitHub stops the embedded GitHub at once: the app is stopped by then,
// and a graceful shutdown would wait for its idle keep-alive connections.
func (s *Sandbox) closeGitHub() error {
	return s.githubServer.Close()
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
