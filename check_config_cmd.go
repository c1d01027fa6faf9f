package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/fluxrollback/flux-rollback/repoconfig"
	"github.com/fluxrollback/flux-rollback/server"
)

var checkConfigCmd = command{
	name:     "check-config",
	synopsis: "[--config FILE] [--repo-file FILE]",
	about: `Check a configuration before deploying it, and print every problem at once with
its file, line, key and the form expected. The server configuration is checked
as serve would load it: the defaults, FILE (default ` + defaultConfigPath + ` when
it exists), then the FLUXROLLBACK_* and GITHUB_* environment variables. With
--repo-file alone, only that repository file (.github/flux-rollback.yml, or the
organisation's flux-rollback.yml) is checked, as in a deploy repository's CI.
Exit status 0 when everything is valid, 1 when there is a problem.`,
}

func checkConfig(args []string, stdout io.Writer) error {
	flags := checkConfigCmd.flags()
	configPath := flags.String("config", "", "the server's YAML configuration `FILE`")
	repoFile := flags.String("repo-file", "", "a repository's configuration `FILE` (.github/flux-rollback.yml) to check too")
	if err := checkConfigCmd.parse(flags, args, stdout); err != nil {
		return err
	}

	valid := true
	defaults := repoconfig.DefaultConfig()
	if *configPath != "" || *repoFile == "" {
		path := configFile(*configPath)
		what := path
		if path == "" {
			what = "server configuration (defaults and environment, no file)"
		}
		cfg, err := server.LoadConfig(path)
		var problems server.ConfigProblems
		switch {
		case errors.As(err, &problems):
			valid = false
			for _, p := range problems {
				fmt.Fprintln(stdout, p.String())
			}
		case err != nil:
			valid = false
			fmt.Fprintln(stdout, err)
		default:
			fmt.Fprintf(stdout, "%s: ok\n", what)
			// A repository file is read over the server's defaults.
			defaults = cfg.Rollback.Defaults
		}
	}

	if *repoFile != "" {
		data, err := os.ReadFile(*repoFile)
		if err != nil {
			return fmt.Errorf("read repository file: %w", err)
		}
		_, err = repoconfig.Parse(data, defaults)
		var problems repoconfig.Problems
		switch {
		case errors.As(err, &problems):
			valid = false
			for _, p := range problems {
				line := *repoFile
				if p.Line > 0 {
					line += fmt.Sprintf(":%d", p.Line)
				}
				if strings.HasPrefix(p.Message, "unknown key") {
					// The likely intended key, as for the server's file.
					if s := server.SuggestKey(reflect.TypeFor[repoconfig.Config](), p.Key); s != "" {
						p.Message = "unknown key; did you mean " + s + "?"
					}
				}
				fmt.Fprintf(stdout, "%s: %s\n", line, problemText(p))
			}
		case err != nil:
			valid = false
			fmt.Fprintf(stdout, "%s: %v\n", *repoFile, err)
		default:
			fmt.Fprintf(stdout, "%s: ok\n", *repoFile)
		}
	}

	if !valid {
		return reportedError{errors.New("the configuration has problems")}
	}
	return nil
}

// problemText is a repository file's problem without its line, which the
// caller puts after the file name.
func problemText(p repoconfig.Problem) string {
	p.Line = 0
	return p.String()
}
