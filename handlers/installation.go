package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// Installation records installs, uninstalls and repository selection changes
// in the log. flux-rollback keeps no state about installations: GitHub sends
// the installation id with every event.
type Installation struct {
	*Base
}

var _ githubapp.EventHandler = (*Installation)(nil)

// Handles lists the installation events.
func (h *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle logs what happened to the installation.
func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	logger := zerolog.Ctx(ctx)
	switch eventType {
	case "installation":
		var event github.InstallationEvent
		if err := json.Unmarshal(payload, &event); err != nil {
			return fmt.Errorf("parse installation event: %w", err)
		}
		logger.Info().
			Str("action", event.GetAction()).
			Int64("installation_id", event.GetInstallation().GetID()).
			Str("account", event.GetInstallation().GetAccount().GetLogin()).
			Strs("repositories", repoNames(event.Repositories)).
			Msg("installation changed")
	case "installation_repositories":
		var event github.InstallationRepositoriesEvent
		if err := json.Unmarshal(payload, &event); err != nil {
			return fmt.Errorf("parse installation_repositories event: %w", err)
		}
		logger.Info().
			Str("action", event.GetAction()).
			Int64("installation_id", event.GetInstallation().GetID()).
			Str("account", event.GetInstallation().GetAccount().GetLogin()).
			Str("repository_selection", event.GetRepositorySelection()).
			Strs("repositories_added", repoNames(event.RepositoriesAdded)).
			Strs("repositories_removed", repoNames(event.RepositoriesRemoved)).
			Msg("installation repositories changed")
	default:
		return fmt.Errorf("installation handler called for %q", eventType)
	}
	return nil
}

func repoNames(repos []*github.Repository) []string {
	names := make([]string, 0, len(repos))
	for _, r := range repos {
		names = append(names, r.GetFullName())
	}
	return names
}
