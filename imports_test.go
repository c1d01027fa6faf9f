package main

import (
	"os/exec"
	"strings"
	"testing"
)

// domainPackages hold flux-rollback's decisions: which commits are releases,
// what tree a revert makes, what a rollback writes and how it is worded. They
// talk to GitHub only through the small interfaces they define, so they may
// not depend on a GitHub client or on a git implementation, even indirectly.
var domainPackages = []string{
	"./command",
	"./fluxstatus",
	"./hold",
	"./release",
	"./repoconfig",
	"./report",
	"./revert",
	"./rollback",
}

// forbiddenInDomain are the module paths whose packages the domain packages
// must not reach.
var forbiddenInDomain = []string{
	"github.com/google/go-github/",
	"github.com/palantir/go-githubapp/",
	"github.com/go-git/",
}

func TestDomainPackagesDoNotReachGitHubOrGit(t *testing.T) {
	for _, pkg := range domainPackages {
		// Test files are left out: domain tests may use the embedded GitHub
		// or the git oracle; the shipped code may not.
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %d packages; want the package and its dependencies", pkg, len(deps))
		}
		for _, dep := range deps {
			for _, bad := range forbiddenInDomain {
				if strings.HasPrefix(dep, bad) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
