package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fluxrollback/flux-rollback/register"
)

var registerCmd = command{
	name:     "register",
	synopsis: "--webhook-url URL [--org ORG] [--github-url URL] [--out DIR | --output kubernetes] [flags]",
	about: `Register the GitHub App through GitHub's App manifest flow: open the local page
this command prints in a browser signed in to GitHub; it sends GitHub the App's
manifest (name, webhook URL, and the permissions and events flux-rollback
needs), GitHub creates the App and sends you back, and the App's id, webhook
secret and private key are written to files of mode 0600 in DIR (or, with
--output kubernetes, printed as a Kubernetes Secret on stdout). Secrets are
never printed otherwise. Then install the App from the link shown.`,
}

func registerCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := registerCmd.flags()
	var opts register.Options
	flags.StringVar(&opts.WebhookURL, "webhook-url", "", "the `URL` GitHub delivers webhooks to: the server's https://HOST/api/github/hook (required)")
	flags.StringVar(&opts.Name, "name", register.DefaultName, "the App's `name`, unique on the GitHub instance (GitHub's page lets you change it)")
	flags.StringVar(&opts.Org, "org", "", "register the App on this `organization` (default: your own account)")
	flags.StringVar(&opts.WebURL, "github-url", register.DefaultWebURL, "GitHub's web `URL`; a GitHub Enterprise Server's https://HOSTNAME")
	flags.StringVar(&opts.APIURL, "api-url", "", "GitHub's REST API `URL` (default https://api.github.com/, or https://HOSTNAME/api/v3/ for a GitHub Enterprise Server)")
	flags.StringVar(&opts.Homepage, "homepage", register.DefaultHomepage, "the App's homepage `URL`")
	flags.BoolVar(&opts.Public, "public", false, "let other accounts install the App")
	flags.StringVar(&opts.Listen, "listen", register.DefaultListen, "loopback `address` of the local page")
	out := flags.String("out", "flux-rollback-app", "`directory` for the files app-id, webhook-secret and private-key.pem")
	output := flags.String("output", "files", "output `format`: files (in --out) or kubernetes (a Secret manifest on stdout)")
	secretName := flags.String("secret-name", "flux-rollback", "the Secret's `name` with --output kubernetes")
	if err := registerCmd.parse(flags, args, stdout); err != nil {
		return err
	}
	if opts.WebhookURL == "" {
		return usageError{fmt.Errorf("register: --webhook-url is required (see flux-rollback register --help)")}
	}
	if *output != "files" && *output != "kubernetes" {
		return usageError{fmt.Errorf("register: --output %q is not files or kubernetes", *output)}
	}

	opts.Ready = func(page string) {
		fmt.Fprintf(stderr, "Open %s in a browser signed in to GitHub (%s) to register the App.\nWaiting for GitHub (Ctrl-C to stop)...\n", page, opts.WebURL)
	}
	app, err := register.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}

	summary := stdout
	if *output == "kubernetes" {
		if err := register.KubernetesSecret(stdout, *secretName, app); err != nil {
			return fmt.Errorf("register: write the Secret: %w", err)
		}
		summary = stderr
		fmt.Fprintf(summary, "Registered %s (App ID %d); its Secret %q is on stdout.\n", app.GetName(), app.GetID(), *secretName)
	} else {
		written, err := register.WriteFiles(*out, app)
		if err != nil {
			return fmt.Errorf("register: the App %s (ID %d) is registered, but its credentials could not be saved: %w; delete the App in GitHub's settings and register again", app.GetName(), app.GetID(), err)
		}
		fmt.Fprintf(summary, "Registered %s (App ID %d). Wrote, with mode 0600:\n", app.GetName(), app.GetID())
		for _, f := range written {
			fmt.Fprintf(summary, "  %s\n", f)
		}
		dir := *out
		fmt.Fprintf(summary, `
Run the server with them:

  GITHUB_APP_INTEGRATION_ID=$(cat %s) \
  GITHUB_APP_WEBHOOK_SECRET="$(cat %s)" \
  FLUXROLLBACK_PRIVATE_KEY_FILE=%s \
`, filepath.Join(dir, register.FileAppID), filepath.Join(dir, register.FileWebhookSecret), filepath.Join(dir, register.FilePrivateKey))
		if opts.WebURL != register.DefaultWebURL {
			api := opts.APIURL
			if api == "" {
				api = register.APIURLFor(opts.WebURL)
			}
			fmt.Fprintf(summary, "  GITHUB_WEB_URL=%s GITHUB_V3_API_URL=%s GITHUB_V4_API_URL=%s \\\n", opts.WebURL, api, graphQLURLFor(opts.WebURL))
		}
		fmt.Fprintf(summary, "  flux-rollback serve\n\nor use the directory as deploy/'s secretGenerator files (see docs/installing.md).\n")
	}
	fmt.Fprintf(summary, "\nInstall the App on your repositories: %s\n", register.InstallURL(app))
	return nil
}

// graphQLURLFor is a GitHub Enterprise Server's GraphQL endpoint.
func graphQLURLFor(webURL string) string {
	return webURL + "/api/graphql"
}
