package handlers

import "sort"

// Permissions are the repository permissions the handlers use, named and
// valued as a GitHub App manifest's default_permissions names them. The
// registration command asks for exactly these; docs/installing.md lists them
// with the reason for each, and the embedded GitHub grants only these in the
// tests, so a handler that needs another permission fails there.
var Permissions = map[string]string{
	"checks":        "write",
	"contents":      "write",
	"issues":        "write",
	"metadata":      "read",
	"pull_requests": "write",
	"statuses":      "read",
}

// alwaysSent are the events GitHub sends every App, subscribed or not.
var alwaysSent = map[string]bool{"installation": true, "installation_repositories": true}

// Events returns the webhook events an App must subscribe to for the
// handlers of All: every event they handle but those GitHub always sends.
func Events() []string {
	var events []string
	for _, h := range All(&Base{}) {
		for _, e := range h.Handles() {
			if !alwaysSent[e] {
				events = append(events, e)
			}
		}
	}
	sort.Strings(events)
	return events
}
