// Package demo plays flux-rollback's main job end to end on the embedded
// GitHub: Flux's image automation releases an image, the Rollback check run
// appears, someone clicks Roll back, the pull request with the exact revert
// and the hold of the image opens, is merged, and the automation is resumed
// in one click. Both servers run in this process on loopback ports; every
// step goes through real HTTP requests and real signed webhooks.
package demo

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v57/github"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

// Options configures a demo run.
type Options struct {
	Out     io.Writer
	Color   bool
	Keep    bool // leave both servers running until interrupted
	Version string
	// In, with Keep, is read for commands that act on the embedded GitHub
	// (see interactive.go); nil keeps the servers running without a prompt.
	In io.Reader
}

// The sample release the demo plays: Flux's image automation moves the api
// image from goodTag to badTag.
const (
	demoPolicy = "flux-system:api"
	goodTag    = "master-f01225d"
	badTag     = "master-26a4b87"
	// demoImage and demoTag are the image that policy sets and its bad tag.
	demoImage = sandbox.APIImage
	demoTag   = badTag
)

// Run plays the demo and returns nil when every step did what it should.
func Run(ctx context.Context, opts Options) error {
	p := printer{out: opts.Out, color: opts.Color}
	started := time.Now()

	sbOpts, logFile, closeLog, err := sandboxOptions(opts)
	if err != nil {
		return err
	}
	defer closeLog()
	sb, err := sandbox.Start(ctx, sbOpts)
	if err != nil {
		return err
	}
	defer sb.Close()
	p.title("flux-rollback demo")
	p.kv("embedded GitHub", sb.GitHubURL)
	p.kv("flux-rollback", sb.AppURL+"  (webhooks at /api/github/hook, /api/health, /metrics)")

	repo, err := sb.AddFluxV2Repo(sandbox.InstallationID, "acme", "deploy")
	if err != nil {
		return fmt.Errorf("create the sample repository: %w", err)
	}
	deployment, _ := repo.ReadFile("main", sandbox.APIDeploymentPath)
	kustomization, _ := repo.ReadFile("main", sandbox.APIKustomizationPath)
	p.step(1, "acme/deploy: Flux's image automation updates the lines marked with the api image policy")
	p.kv(sandbox.APIDeploymentPath, "")
	p.code(markedLines(deployment, demoPolicy))
	p.kv(sandbox.APIKustomizationPath, "")
	p.code(markedLines(kustomization, demoPolicy))

	release, err := repo.ReleasePolicy(ctx, demoPolicy, goodTag, badTag)
	if err != nil {
		return fmt.Errorf("release %s: %w", sandbox.APIImage, err)
	}
	p.step(2, fmt.Sprintf("Flux commits %s %q (api-js %s -> %s) and pushes it", short(release), "Update from image update automation", goodTag, badTag))
	p.note("push webhook delivered, signed with the App's webhook secret")

	run, err := oneRun(repo.Repo, release, report.CheckRunName)
	if err != nil {
		return err
	}
	p.step(3, "The Rollback check run appears on "+short(release))
	p.kv("title", run.Output.Title)
	p.kv("button", buttonLabels(run.Actions))

	p.step(4, fmt.Sprintf("%s clicks %q", sandbox.Human.Login, "Roll back"))
	d, err := repo.ClickCheckRunAction(ctx, run.ID, report.ActionRollback, sandbox.Human.Login)
	if err != nil {
		return fmt.Errorf("click Roll back: %w", err)
	}
	p.note(fmt.Sprintf("check_run requested_action delivered: flux-rollback answered %d", d.StatusCode))
	prs := repo.PullRequests()
	if len(prs) != 1 {
		updated, _ := repo.CheckRun(run.ID)
		return fmt.Errorf("want one pull request, found %d; the check run says: %s", len(prs), updated.Output.Summary)
	}
	pr := prs[0]
	p.step(5, fmt.Sprintf("Pull request #%d: %s", pr.Number, pr.Title))
	p.kv("branch", pr.Head+" -> "+pr.Base)
	p.kv("labels", strings.Join(pr.Labels, ", "))
	p.code(withoutRecord(pr.Body))

	holdCommit, err := repo.CommitInfo(pr.HeadSHA)
	if err != nil || len(holdCommit.Parents) != 1 {
		return fmt.Errorf("read the hold commit: %v", err)
	}
	for i, sha := range []string{holdCommit.Parents[0], pr.HeadSHA} {
		show, err := gitShow(ctx, sb, repo.Repo, sha)
		if err != nil {
			return err
		}
		p.step(6+i, []string{"Its first commit, the exact revert, as `git show` prints it", "Its second commit, the hold"}[i])
		p.diff(show)
	}

	merged, _, err := repo.MergePullRequest(ctx, pr.Number, sandbox.Human.Login, "")
	if err != nil {
		return fmt.Errorf("merge #%d: %w", pr.Number, err)
	}
	p.step(8, fmt.Sprintf("%s merges #%d; the push of %s gets the Rollback hold check run", sandbox.Human.Login, pr.Number, short(merged)))
	held, err := oneRun(repo.Repo, merged, report.HoldCheckRunName)
	if err != nil {
		return err
	}
	p.kv("title", held.Output.Title)
	p.kv("button", buttonLabels(held.Actions))
	p.code(held.Output.Summary)
	if _, err := repo.ReleasePolicy(ctx, demoPolicy, goodTag, "master-0badbad"); err == nil {
		return fmt.Errorf("Flux's automation still finds the held lines")
	}
	p.note("Flux's automation finds no marker on the held lines: a newer api image is not released")

	p.step(9, "Once a fix ships, "+sandbox.Human.Login+" clicks \"Resume automation\"")
	if _, err := repo.ClickCheckRunAction(ctx, held.ID, report.ActionResume, sandbox.Human.Login); err != nil {
		return fmt.Errorf("click Resume automation: %w", err)
	}
	prs = repo.PullRequests()
	if len(prs) != 2 {
		updated, _ := repo.CheckRun(held.ID)
		return fmt.Errorf("want a resume pull request; the check run says: %s", updated.Output.Summary)
	}
	resume := prs[1]
	p.kv("pull request", fmt.Sprintf("#%d: %s (%s)", resume.Number, resume.Title, resume.Head))
	show, err := gitShow(ctx, sb, repo.Repo, resume.HeadSHA)
	if err != nil {
		return err
	}
	p.diff(show)
	released, err := repo.CommitInfo(release)
	if err != nil {
		return err
	}
	for _, path := range []string{sandbox.APIDeploymentPath, sandbox.APIKustomizationPath} {
		got, _ := repo.ReadFile(resume.HeadSHA, path)
		want, _ := repo.ReadFile(released.Parents[0], path)
		if got != want {
			return fmt.Errorf("%s after the resume is not the file before the release", path)
		}
	}
	p.done(fmt.Sprintf("Done in %s: #%d rolled api-js back to %s and held it; merging #%d resumes Flux's automation, byte for byte.",
		time.Since(started).Round(time.Millisecond), pr.Number, goodTag, resume.Number))

	if opts.Keep && opts.In != nil {
		return interact(ctx, p, sb, repo, release, logFile, opts.In)
	}
	if opts.Keep {
		return keep(ctx, p, sb, release)
	}
	return nil
}

// oneRun returns the check run called name on sha, or an error unless there
// is exactly one.
func oneRun(repo *fakegithub.Repo, sha, name string) (fakegithub.CheckRun, error) {
	var runs []fakegithub.CheckRun
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == name {
			runs = append(runs, r)
		}
	}
	if len(runs) != 1 {
		return fakegithub.CheckRun{}, fmt.Errorf("want one %s check run on %s, found %d", name, short(sha), len(runs))
	}
	return runs[0], nil
}

// rollbackRuns are the Rollback check runs on sha.
func rollbackRuns(repo *fakegithub.Repo, sha string) []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, r := range repo.CheckRuns(sha) {
		if r.Name == report.CheckRunName {
			out = append(out, r)
		}
	}
	return out
}

// markedLines are the lines of content that carry policy's marker.
func markedLines(content, policy string) string {
	var out []string
	for _, line := range strings.Split(content, "\n") {
		if strings.Contains(line, `"`+policy) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// withoutRecord drops the hold record, an HTML comment GitHub does not show.
func withoutRecord(body string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "<!-- ") {
			out = append(out, line)
		}
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// keep leaves the servers running and tells how to talk to them. Secrets are
// written to files, never printed.
func keep(ctx context.Context, p printer, sb *sandbox.Sandbox, release string) error {
	dir, err := os.MkdirTemp("", "flux-rollback-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	secretFile := filepath.Join(dir, "webhook-secret")
	tokenFile := filepath.Join(dir, "installation-token")
	if err := os.WriteFile(secretFile, []byte(sb.WebhookSecret), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(sb.GitHub.IssueToken(sandbox.InstallationID)), 0o600); err != nil {
		return err
	}
	fluxTokenFile := filepath.Join(dir, "flux-token")
	if err := os.WriteFile(fluxTokenFile, []byte(sb.GitHub.IssueTokenWith(sandbox.InstallationID, fluxStatusPermissions)), 0o600); err != nil {
		return err
	}
	p.title("Both servers keep running; Ctrl-C stops them.")
	fmt.Fprintf(p.out, `
Send your own webhook (signed as GitHub signs it):

  body='{"zen":"Keep it logically awesome.","hook_id":1}'
  sig=$(printf '%%s' "$body" | openssl dgst -sha256 -hmac "$(cat %s)" | sed 's/^.* //')
  curl -i %s/api/github/hook -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: demo-1' \
       -H "X-Hub-Signature-256: sha256=$sig" -H 'Content-Type: application/json' -d "$body"

Inspect the embedded GitHub with an installation token:

  curl -s -H "Authorization: token $(cat %s)" %s/repos/acme/deploy/pulls
  curl -s -H "Authorization: token $(cat %s)" %s/repos/acme/deploy/commits/main/check-runs

Play Flux's notification-controller reporting the release failing, then
healthy again, as its github Provider posts it (docs/flux-alerts.md), and look
at the Rollback check run after each:

%s

Watch flux-rollback:

  curl -s %s/api/health
  curl -s %s/metrics
`, secretFile, sb.AppURL, tokenFile, sb.GitHubURL, tokenFile, sb.GitHubURL,
		fluxStatusCommands(sb.GitHubURL, fluxTokenFile, tokenFile, release), sb.AppURL, sb.AppURL)
	wait, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-wait.Done()
	return nil
}

// gitShow prints a commit the way `git show` does, from the embedded
// GitHub's commit API.
func gitShow(ctx context.Context, sb *sandbox.Sandbox, repo *fakegithub.Repo, sha string) (string, error) {
	client := github.NewClient(nil).WithAuthToken(sb.GitHub.IssueToken(sandbox.InstallationID))
	base, err := url.Parse(sb.GitHubURL + "/")
	if err != nil {
		return "", err
	}
	client.BaseURL = base
	c, _, err := client.Repositories.GetCommit(ctx, repo.Owner(), repo.Name(), sha, nil)
	if err != nil {
		return "", fmt.Errorf("read the rollback commit: %w", err)
	}
	before, err := repo.ReadTree(c.Parents[0].GetSHA())
	if err != nil {
		return "", err
	}
	after, err := repo.ReadTree(sha)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	author := c.GetCommit().GetAuthor()
	fmt.Fprintf(&b, "commit %s\nAuthor: %s <%s>\nDate:   %s\n\n", c.GetSHA(), author.GetName(), author.GetEmail(),
		author.GetDate().Format("Mon Jan 2 15:04:05 2006 -0700"))
	for _, line := range strings.Split(strings.TrimRight(c.GetCommit().GetMessage(), "\n"), "\n") {
		b.WriteString(strings.TrimRight("    "+line, " ") + "\n")
	}
	for _, f := range c.Files {
		name := f.GetFilename()
		old, hadOld := before[name]
		cur := after[name]
		fmt.Fprintf(&b, "\ndiff --git a/%s b/%s\nindex %s..%s %s\n--- a/%s\n+++ b/%s\n%s\n",
			name, name, abbrev(blobSHA(old, hadOld)), abbrev(f.GetSHA()), modeOr(cur.Mode), name, name, strings.TrimRight(f.GetPatch(), "\n"))
	}
	return b.String(), nil
}

// blobSHA is the object id git gives f's content ("0000000" for no file).
func blobSHA(f fakegithub.File, exists bool) string {
	if !exists {
		return strings.Repeat("0", 40)
	}
	return plumbing.ComputeHash(plumbing.BlobObject, []byte(f.Content)).String()
}

func modeOr(mode string) string {
	if mode == "" {
		return "100644"
	}
	return mode
}

func abbrev(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func short(sha string) string { return abbrev(sha) }

func buttonLabels(actions []fakegithub.CheckRunAction) string {
	labels := make([]string, 0, len(actions))
	for _, a := range actions {
		labels = append(labels, fmt.Sprintf("[%s] %s", a.Label, a.Description))
	}
	return strings.Join(labels, ", ")
}
