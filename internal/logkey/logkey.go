// Package logkey names the keys of flux-rollback's structured log lines, so
// that one thing is always logged under one key and log queries keep
// working. go-githubapp adds its own keys (github_event_type,
// github_delivery_id, github_installation_id, github_repository_owner,
// github_repository_name) to the same lines.
package logkey

const (
	Action        = "action"         // the webhook's action
	Address       = "address"        // the address the server listens on
	Association   = "association"    // a comment author's author_association
	Attempt       = "attempt"        // the number of a request's attempt
	After         = "after"          // a push's new head
	Before        = "before"         // a push's old head
	Branch        = "branch"         // a git branch name
	CheckRun      = "check_run"      // a check run's name
	CheckRunID    = "check_run_id"   // a check run's id
	Cause         = "cause"          // why a request is retried or waits
	Commits       = "commits"        // a number of commits
	Component     = "component"      // the part of the server a line comes from
	ContentLength = "content_length" // a request body's declared size
	Deliveries    = "deliveries"     // webhook delivery GUIDs
	Examined      = "examined"       // commits read while looking for releases
	Existing      = "existing"       // whether a pull request was opened earlier
	Holds         = "holds"          // a number of held image references
	Identifier    = "identifier"     // a check run action's identifier
	Images        = "images"         // a number of image references
	Method        = "method"         // an HTTP request's method
	Metric        = "metric"         // a metric family's name
	Path          = "path"           // an HTTP request's path
	Panic         = "panic"          // a recovered panic's value
	PullRequest   = "pull_request"   // a pull request number
	Reason        = "reason"         // why something was refused or skipped
	Ref           = "ref"            // a git ref
	Releases      = "releases"       // a number of release commits
	Role          = "role"           // a user's role in the repository
	SHA           = "sha"            // the commit acted on
	Source        = "source"         // where a configuration came from
	Stack         = "stack"          // a recovered panic's stack
	StatusContext = "status_context" // a commit status's context
	StatusSHA     = "status_sha"     // the commit a commit status was posted on
	StatusState   = "status_state"   // a commit status's state
	Wait          = "wait"           // how long a request waits before its next attempt
	Warned        = "warned"         // releases whose check run shows Flux failing
	User          = "user"           // the GitHub login that asked
	Version       = "version"        // flux-rollback's version
)
