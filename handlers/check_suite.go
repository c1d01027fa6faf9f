package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v57/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// CheckSuite recreates the Rollback check run when someone re-runs all
// checks of a commit.
type CheckSuite struct {
	*Base
}

var _ githubapp.EventHandler = (*CheckSuite)(nil)

// Handles lists the check_suite event.
func (h *CheckSuite) Handles() []string { return []string{"check_suite"} }

// Handle recreates the check run of the suite's commit.
func (h *CheckSuite) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var event github.CheckSuiteEvent
	if err := json.Unmarshal(payload, &event); err != nil {
		return fmt.Errorf("parse check_suite event: %w", err)
	}
	logger := zerolog.Ctx(ctx)
	suite := event.GetCheckSuite()
	if event.GetAction() != "rerequested" || suite.GetApp().GetID() != h.AppID {
		logger.Debug().Str(LogKeyAction, event.GetAction()).Msg("ignoring check_suite event")
		return nil
	}
	return rerunCheck(ctx, h.Base, event.GetInstallation().GetID(), event.GetRepo(), suite.GetHeadSHA())
}
