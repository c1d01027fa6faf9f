package handlers

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
	"github.com/fluxrollback/flux-rollback/internal/logkey"
	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// Who is answered. Every reply and reaction spends GitHub's content-creation
// budget (about 80 writes a minute), the one a real rollback needs on the
// day it is needed, so a command costs one read, the author's role, before
// anything is written:
//
//   - write or higher (the lowest minimum_role there is): answered as usual;
//     a stricter minimum_role is enforced, and told, by the rollback itself;
//   - no access at all, or on a public repository anyone who is not an owner,
//     member or collaborator: nothing is written, the command is only
//     logged: anyone can comment there, and an answer to each would let them
//     spend the budget;
//   - a member or collaborator below write (read, triage): one reply that
//     says which role is needed, and no reaction.

// insiders are the author associations of people the repository trusts.
var insiders = map[string]bool{"OWNER": true, "MEMBER": true, "COLLABORATOR": true}

// admitCommenter reports whether the author's command is carried out, with
// the author's role, and when it is not, the one reply to give ("" for
// none).
func admitCommenter(ctx context.Context, repo *githubapi.Repo, e commentEvent, requester string) (admitted bool, role, refusal string, err error) {
	role, err = repo.Role(ctx, requester)
	if err != nil {
		return false, "", "", err
	}
	if repoconfig.RoleAllows(role, repoconfig.RoleWrite) {
		return true, role, "", nil
	}
	logger := zerolog.Ctx(ctx).With().Str(logkey.User, requester).Str(logkey.Role, role).Str(logkey.Association, e.association).Logger()
	if role == "none" || role == "" || (!e.repo.GetPrivate() && !insiders[e.association]) {
		logger.Info().Msg("command from a user without access to the repository ignored")
		return false, role, "", nil
	}
	logger.Info().Msg("command from a user below the write role refused")
	return false, role, report.RefusalReply(rollback.RoleRefusal(requester, role, repoconfig.RoleWrite)), nil
}
