// Package handlers holds one webhook handler per GitHub event. Handlers are
// thin: parse the payload, filter, build the adapters, call the domain code,
// report.
package handlers

import (
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/fluxrollback/flux-rollback/githubapi"
)

// Base is what every handler shares. The server fills it in.
//
// The server adds the installation id and the repository owner and name to
// the logger of every event's context, next to go-githubapp's event type and
// delivery id, so handlers log through zerolog.Ctx(ctx) without adding them.
type Base struct {
	githubapp.ClientCreator

	// AppID is the GitHub App's id: only this App's check runs are acted on.
	AppID int64
	// Configs loads a repository's options over the server's defaults.
	Configs *githubapi.ConfigLoader
	// Concurrency bounds the GitHub requests one event makes at once; zero
	// means the handlers' default.
	Concurrency int
	// ProgressDelay is how long a click runs before its check run shows it
	// in progress; zero shows progress at once.
	ProgressDelay time.Duration
}

// All returns the handlers the server dispatches webhooks to.
func All(base *Base) []githubapp.EventHandler {
	return []githubapp.EventHandler{
		&Installation{Base: base},
		&Push{Base: base},
		&CheckRun{Base: base},
		&CheckSuite{Base: base},
		&IssueComment{Base: base},
		&CommitComment{Base: base},
		&Status{Base: base},
	}
}
