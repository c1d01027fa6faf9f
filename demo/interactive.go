package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/report"
	"github.com/fluxrollback/flux-rollback/sandbox"
)

// sandboxOptions are the sandbox's options for a run: with --keep, the
// server's log lines go to a file the demo names, so a newcomer can watch
// what flux-rollback did with each action.
func sandboxOptions(opts Options) (sandbox.Options, string, func(), error) {
	sbOpts := sandbox.Options{Version: opts.Version}
	if !opts.Keep || opts.In == nil {
		return sbOpts, "", func() {}, nil
	}
	f, err := os.CreateTemp("", "flux-rollback-demo-*.log")
	if err != nil {
		return sbOpts, "", nil, fmt.Errorf("create the server's log file: %w", err)
	}
	logger := zerolog.New(f).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	sbOpts.Logger = &logger
	return sbOpts, f.Name(), func() { f.Close() }, nil
}

// session is the --keep prompt: commands that act on the embedded GitHub as
// Flux, as a person clicking and commenting, and as the notification
// controller, each followed by what flux-rollback did.
type session struct {
	p       printer
	sb      *sandbox.Sandbox
	repo    *sandbox.GitOpsRepo
	logFile string
	// latest is the last release commit, the default target of click.
	latest string
}

const promptHelp = `Commands (as a person, alice, with write access; Flux as fluxcd):
  release <image> <tag>      Flux commits and pushes a release of image (web <tag> for the Flux v2 Deployment)
  click [<check-run-id|sha>] [rollback|restore|resume]
                             alice presses a check run's button (default: Roll back on the latest release)
  comment <number> <text>    alice comments on an issue or pull request, e.g. comment 1 /rollback status
  merge <number>             alice merges a pull request (its push is delivered)
  status <sha> <failure|success> [context]
                             Flux's notification-controller posts a commit status for the Kustomization apps
                             (default context kustomization/apps/1a2b3c4d, one cluster's; name another for a second)
  show <sha|number>          a commit as git show prints it, or a pull request
  runs [<sha>]               the check runs of a commit (default: the latest release)
  prs                        the pull requests
  help                       this list
  quit                       stop both servers (Ctrl-C or end of input too)
`

// interact runs the prompt on opts.In until quit, the end of the input or
// a signal.
func interact(ctx context.Context, p printer, sb *sandbox.Sandbox, repo *sandbox.GitOpsRepo, latest, logFile string, in io.Reader) error {
	s := &session{p: p, sb: sb, repo: repo, logFile: logFile, latest: latest}
	dir, err := os.MkdirTemp("", "flux-rollback-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tokenFile := filepath.Join(dir, "installation-token")
	if err := os.WriteFile(tokenFile, []byte(sb.GitHub.IssueToken(sandbox.InstallationID)), 0o600); err != nil {
		return err
	}

	p.title("Both servers keep running; type commands below (help lists them).")
	fmt.Fprintf(p.out, "\n  server log      %s\n  API token       %s (read the embedded GitHub with curl -H \"Authorization: token $(cat %s)\" URL)\n  pull requests   %s\n  health          %s/api/health\n  metrics         %s/metrics\n\n%s\n",
		logFile, tokenFile, tokenFile, s.apiURL("pulls"), sb.AppURL, sb.AppURL, promptHelp)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	lines := make(chan string)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(in)
		for scanner.Scan() {
			select {
			case lines <- scanner.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		fmt.Fprint(p.out, "demo> ")
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(p.out)
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			fmt.Fprintln(p.out)
			return nil
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "quit" || fields[0] == "exit" {
			return nil
		}
		if err := s.do(ctx, fields, line); err != nil {
			fmt.Fprintf(p.out, "  %s\n", err)
		}
	}
}

// do runs one command.
func (s *session) do(ctx context.Context, args []string, line string) error {
	switch args[0] {
	case "help":
		fmt.Fprint(s.p.out, promptHelp)
		return nil
	case "release":
		return s.release(ctx, args[1:])
	case "click":
		return s.click(ctx, args[1:])
	case "comment":
		return s.comment(ctx, args, line)
	case "merge":
		return s.merge(ctx, args[1:])
	case "status":
		return s.status(ctx, args[1:])
	case "show":
		return s.show(ctx, args[1:])
	case "runs":
		return s.runs(args[1:])
	case "prs":
		return s.prs()
	}
	return fmt.Errorf("unknown command %q; type help", args[0])
}

func (s *session) apiURL(path string) string {
	return s.sb.GitHubURL + "/repos/" + s.repo.FullName() + "/" + path
}

func (s *session) release(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: release <image> <tag>, e.g. release gcr.io/track-compliance/api-js master-1234567, or release web 1.5.0")
	}
	var sha string
	var err error
	if args[0] == "web" || args[0] == "ghcr.io/acme/web" {
		sha, err = s.repo.ReleaseV2(ctx, args[1])
	} else {
		sha, err = s.repo.ReleaseV1(ctx, args[0], args[1])
	}
	if err != nil {
		return err
	}
	s.latest = sha
	info, _ := s.repo.CommitInfo(sha)
	fmt.Fprintf(s.p.out, "  Flux pushed %s %q; the push was delivered to flux-rollback\n", short(sha), firstLine(info.Message))
	return s.runs([]string{sha})
}

func (s *session) runs(args []string) error {
	sha := s.latest
	if len(args) > 0 {
		resolved, err := s.commit(args[0])
		if err != nil {
			return err
		}
		sha = resolved
	}
	runs := s.repo.CheckRuns(sha)
	if len(runs) == 0 {
		fmt.Fprintf(s.p.out, "  no check run on %s\n", short(sha))
	}
	for _, r := range runs {
		fmt.Fprintf(s.p.out, "  check run %d %s on %s: %s", r.ID, r.Name, short(sha), r.Output.Title)
		if len(r.Actions) > 0 {
			fmt.Fprintf(s.p.out, "  %s", buttonLabels(r.Actions))
		}
		fmt.Fprintln(s.p.out)
	}
	fmt.Fprintf(s.p.out, "  %s\n", s.apiURL("commits/"+sha+"/check-runs"))
	return nil
}

// commit resolves a full or abbreviated SHA, or a branch.
func (s *session) commit(rev string) (string, error) {
	if sha, ok := s.repo.Ref("heads/" + rev); ok {
		return sha, nil
	}
	if _, err := s.repo.CommitInfo(rev); err == nil && len(rev) == 40 {
		return rev, nil
	}
	var found []string
	seen := map[string]bool{}
	for _, sha := range s.repo.Refs() {
		for sha != "" && !seen[sha] {
			seen[sha] = true
			if strings.HasPrefix(sha, rev) {
				found = append(found, sha)
			}
			info, err := s.repo.CommitInfo(sha)
			if err != nil || len(info.Parents) == 0 {
				break
			}
			sha = info.Parents[0]
		}
	}
	if len(found) != 1 || len(rev) < 4 {
		return "", fmt.Errorf("%q names no single commit of %s", rev, s.repo.FullName())
	}
	return found[0], nil
}

func (s *session) click(ctx context.Context, args []string) error {
	action := report.ActionRollback
	target := ""
	for _, a := range args {
		switch a {
		case "rollback", "restore", "resume":
			action = a
		default:
			target = a
		}
	}
	run, err := s.checkRun(target)
	if err != nil {
		return err
	}
	label := action
	for _, a := range run.Actions {
		if a.Identifier == action {
			label = a.Label
		}
	}
	before := len(s.repo.PullRequests())
	d, err := s.repo.ClickCheckRunAction(ctx, run.ID, action, sandbox.Human.Login)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.p.out, "  %s pressed %q on check run %d (%s): flux-rollback answered %d\n", sandbox.Human.Login, label, run.ID, short(run.HeadSHA), d.StatusCode)
	if updated, ok := s.repo.CheckRun(run.ID); ok {
		fmt.Fprintf(s.p.out, "  check run: %s\n", updated.Output.Title)
	}
	prs := s.repo.PullRequests()
	for _, pr := range prs[before:] {
		fmt.Fprintf(s.p.out, "  pull request #%d: %s (%s -> %s)\n  %s\n", pr.Number, pr.Title, pr.Head, pr.Base, s.apiURL("pulls/"+strconv.Itoa(pr.Number)))
	}
	return nil
}

// checkRun finds the Rollback check run by id or commit; empty means the
// latest release.
func (s *session) checkRun(target string) (fakegithub.CheckRun, error) {
	if id, err := strconv.ParseInt(target, 10, 64); err == nil && len(target) < 12 {
		if run, ok := s.repo.CheckRun(id); ok {
			return run, nil
		}
	}
	sha := s.latest
	if target != "" {
		resolved, err := s.commit(target)
		if err != nil {
			return fakegithub.CheckRun{}, err
		}
		sha = resolved
	}
	runs := rollbackRuns(s.repo.Repo, sha)
	if len(runs) == 0 {
		return fakegithub.CheckRun{}, fmt.Errorf("no %s check run on %s", report.CheckRunName, short(sha))
	}
	return runs[len(runs)-1], nil
}

func (s *session) comment(ctx context.Context, args []string, line string) error {
	if len(args) < 3 {
		return errors.New("usage: comment <number> <text>, e.g. comment 1 /rollback status")
	}
	number, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("%q is not an issue or pull request number", args[1])
	}
	// The text as typed, spaces included.
	text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), args[0]))
	text = strings.TrimSpace(strings.TrimPrefix(text, args[1]))
	before := len(s.repo.IssueComments(number))
	_, d, err := s.repo.CommentOnIssue(ctx, number, sandbox.Human.Login, text)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.p.out, "  %s commented on #%d: flux-rollback answered %d\n", sandbox.Human.Login, number, d.StatusCode)
	comments := s.repo.IssueComments(number)
	for _, c := range comments[before:] {
		if c.User == sandbox.Human.Login {
			continue
		}
		fmt.Fprintf(s.p.out, "  %s replied:\n%s\n", c.User, indentText(c.Body, "    "))
	}
	fmt.Fprintf(s.p.out, "  %s\n", s.apiURL("issues/"+strconv.Itoa(number)+"/comments"))
	return nil
}

func (s *session) merge(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: merge <number>")
	}
	number, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("%q is not a pull request number", args[0])
	}
	sha, d, err := s.repo.MergePullRequest(ctx, number, sandbox.Human.Login, "merge")
	if err != nil {
		return err
	}
	status := "not delivered"
	if d != nil {
		status = fmt.Sprintf("flux-rollback answered %d", d.StatusCode)
	}
	fmt.Fprintf(s.p.out, "  %s merged #%d: %s is now %s; push %s\n", sandbox.Human.Login, number, s.repo.DefaultBranch(), short(sha), status)
	return nil
}

func (s *session) status(ctx context.Context, args []string) error {
	if len(args) < 2 || fluxDescriptions[args[1]] == "" {
		return errors.New("usage: status <sha> <failure|success> [context]")
	}
	sha, err := s.commit(args[0])
	if err != nil {
		return err
	}
	context := fluxContext
	if len(args) > 2 {
		context = args[2]
	}
	prsBefore := s.newestPullRequest()
	d, err := s.repo.PostStatus(ctx, sha, fakegithub.StatusSpec{State: args[1], Context: context, Description: fluxDescriptions[args[1]], Creator: "flux-notification-controller"})
	if err != nil {
		return err
	}
	answer := "no delivery"
	if d != nil {
		answer = fmt.Sprintf("flux-rollback answered %d", d.StatusCode)
	}
	fmt.Fprintf(s.p.out, "  the notification-controller posted %s %s on %s: %s\n", args[1], context, short(sha), answer)
	s.fluxWarnings(prsBefore)
	return nil
}

func (s *session) show(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: show <sha|number>")
	}
	if number, err := strconv.Atoi(args[0]); err == nil && len(args[0]) < 6 {
		for _, pr := range s.repo.PullRequests() {
			if pr.Number == number {
				fmt.Fprintf(s.p.out, "  #%d %s [%s] %s -> %s, by %s\n%s\n", pr.Number, pr.Title, pr.State, pr.Head, pr.Base, pr.User, indentText(pr.Body, "    "))
				show, err := gitShow(ctx, s.sb, s.repo.Repo, pr.HeadSHA)
				if err != nil {
					return err
				}
				fmt.Fprintln(s.p.out, indentText(show, "    "))
				return nil
			}
		}
	}
	sha, err := s.commit(args[0])
	if err != nil {
		return err
	}
	show, err := gitShow(ctx, s.sb, s.repo.Repo, sha)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.p.out, indentText(show, "    "))
	return nil
}

func (s *session) prs() error {
	prs := s.repo.PullRequests()
	sort.Slice(prs, func(i, j int) bool { return prs[i].Number < prs[j].Number })
	if len(prs) == 0 {
		fmt.Fprintln(s.p.out, "  no pull request")
	}
	for _, pr := range prs {
		state := pr.State
		if pr.Merged {
			state = "merged"
		}
		fmt.Fprintf(s.p.out, "  #%d [%s] %s (%s)\n", pr.Number, state, pr.Title, pr.Head)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func indentText(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(prefix+l, " ")
	}
	return strings.Join(lines, "\n")
}
