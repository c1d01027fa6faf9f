package demo

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/sandbox"
)

// postCommand is one printed curl POST: the URL and the JSON body.
var postCommand = regexp.MustCompile(`curl -s -X POST -H "Authorization: token \$\(cat (\S+)\)" (\S+) \\\n\s+-d '([^']*)'`)

// TestFluxStatusCommandsWork sends what the --keep instructions print, as
// curl would, and checks that the release's check run shows the failure and
// then is cleared by the success.
func TestFluxStatusCommandsWork(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	repo, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	release, err := repo.ReleaseV1(ctx, demoImage, demoTag)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "flux-token")
	if err := os.WriteFile(tokenFile, []byte(sb.GitHub.IssueTokenWith(sandbox.InstallationID, fluxStatusPermissions)), 0o600); err != nil {
		t.Fatal(err)
	}
	commands := postCommand.FindAllStringSubmatch(fluxStatusCommands(sb.GitHubURL, tokenFile, "unused", release), -1)
	if len(commands) != 2 {
		t.Fatalf("want a failure and a success command, got %q", commands)
	}
	titles := []string{"Flux reports " + fluxContext + " failing since this release", "api-js master-f01225d -> master-26a4b87"}
	for i, cmd := range commands {
		token, err := os.ReadFile(cmd[1])
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cmd[2], strings.NewReader(cmd[3]))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+string(token))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s answered %d", cmd[2], resp.StatusCode)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			runs := rollbackRuns(repo.Repo, release)
			if len(runs) == 1 && runs[0].Output.Title == titles[i] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after command %d the check run shows %+v, want %q", i+1, runs, titles[i])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestKeepPromptFluxStatus plays Flux's notification-controller on the
// prompt: a failure on the new release warns on it, a success clears it.
func TestKeepPromptFluxStatus(t *testing.T) {
	input := strings.Join([]string{
		"release gcr.io/track-compliance/api-js master-1234567",
		"status main failure",
		"status main success",
		"status main pending",
		"quit",
	}, "\n") + "\n"
	var out strings.Builder
	if err := Run(context.Background(), Options{Out: &out, Keep: true, In: strings.NewReader(input)}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	text := out.String()
	_, session, _ := strings.Cut(text, "master-1234567")
	failure, success, ok := strings.Cut(session, "posted success")
	if !ok {
		t.Fatalf("no success posted:\n%s", text)
	}
	for _, want := range []string{"the notification-controller posted failure " + fluxContext + " on ", "flux-rollback answered 200",
		"Flux reports " + fluxContext + " failing since this release"} {
		if !strings.Contains(failure, want) {
			t.Errorf("after the failure the session does not show %q:\n%s", want, failure)
		}
	}
	if !strings.Contains(success, "no release shows Flux failing") || strings.Contains(success, "Flux reports") {
		t.Errorf("the success did not clear the warning:\n%s", success)
	}
	if !strings.Contains(success, "usage: status <sha> <failure|success>") {
		t.Errorf("pending, which Flux never posts, is accepted:\n%s", success)
	}
}
