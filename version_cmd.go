package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Stamped at build time, as the Dockerfile does:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) -X main.date=..."
//
// Without them, the module version and the vcs.* settings Go records in the
// build info of a build inside a git checkout are used.
var (
	version = ""
	commit  = ""
	date    = ""
)

var versionCmd = command{
	name:     "version",
	synopsis: "",
	about:    "Print the version, and the commit and commit time the binary was built from.",
}

func versionCommand(args []string, stdout io.Writer) error {
	flags := versionCmd.flags()
	if err := versionCmd.parse(flags, args, stdout); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, describeBuild(info).String())
	return nil
}

// buildInfo is what `version` prints.
type buildInfo struct {
	Version  string
	Commit   string
	Date     string
	Modified bool
}

func (b buildInfo) String() string {
	s := "flux-rollback " + b.Version
	var details []string
	if b.Commit != "" {
		details = append(details, "commit "+b.Commit)
	}
	if b.Date != "" {
		details = append(details, b.Date)
	}
	if b.Modified {
		details = append(details, "modified")
	}
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	return s
}

// describeBuild combines the -ldflags values with the build info: a stamped
// value wins, the build info fills in the rest.
func describeBuild(info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date}
	if info == nil {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	stampedCommit := commit != ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			// The tree state belongs to the build info's commit, not to
			// a commit stamped by hand.
			b.Modified = s.Value == "true" && !stampedCommit
		}
	}
	return b
}

// buildVersion is the version alone, for /api/health and the User-Agent.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(info).Version
}
