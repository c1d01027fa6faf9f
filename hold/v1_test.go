package hold

import (
	"slices"
	"strings"
	"testing"
)

const automatedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: tracker
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.api: glob:master-*
spec:
  template:
    spec:
      containers:
      - name: api
        image: gcr.io/acme/api-js:master-26a4b87
`

// lockLines are the annotations LockV1 adds for release d4cc490 by octocat.
func lockLines(indent, eol string) string {
	return indent + `fluxcd.io/locked: "true"` + eol +
		indent + `fluxcd.io/locked_msg: "flux-rollback: rolled back d4cc490"` + eol +
		indent + `fluxcd.io/locked_user: "octocat"` + eol
}

func TestLockV1(t *testing.T) {
	cases := map[string]struct {
		content string
		lines   []int
		want    string
		locked  []Workload
	}{
		"automated deployment": {
			content: automatedDeployment,
			lines:   []int{14},
			want:    strings.Replace(automatedDeployment, "    fluxcd.io/automated: \"true\"\n", "    fluxcd.io/automated: \"true\"\n"+lockLines("    ", "\n"), 1),
			locked:  []Workload{{Namespace: "tracker", Kind: "Deployment", Name: "api", Line: 2, Release: "d4cc490", User: "octocat"}},
		},
		"older annotation prefix, other indentation": {
			content: "kind: StatefulSet\nmetadata:\n    name: db\n    annotations:\n        flux.weave.works/automated: 'true'\nspec:\n    image: db:1\n",
			lines:   []int{7},
			want:    "kind: StatefulSet\nmetadata:\n    name: db\n    annotations:\n        flux.weave.works/automated: 'true'\n" + lockLines("        ", "\n") + "spec:\n    image: db:1\n",
			locked:  []Workload{{Kind: "StatefulSet", Name: "db", Line: 1, Release: "d4cc490", User: "octocat"}},
		},
		"not automated": {
			content: strings.Replace(automatedDeployment, `fluxcd.io/automated: "true"`, `fluxcd.io/automated: "false"`, 1),
			lines:   []int{14},
			want:    strings.Replace(automatedDeployment, `fluxcd.io/automated: "true"`, `fluxcd.io/automated: "false"`, 1),
		},
		"no annotations at all": {
			content: "kind: Deployment\nmetadata:\n  name: api\nspec:\n  image: a:1\n",
			lines:   []int{5},
			want:    "kind: Deployment\nmetadata:\n  name: api\nspec:\n  image: a:1\n",
		},
		"already locked by a person": {
			content: strings.Replace(automatedDeployment, "    fluxcd.io/tag.api", "    fluxcd.io/locked: \"true\"\n    fluxcd.io/tag.api", 1),
			lines:   []int{15},
			want:    strings.Replace(automatedDeployment, "    fluxcd.io/tag.api", "    fluxcd.io/locked: \"true\"\n    fluxcd.io/tag.api", 1),
		},
		"a kind fluxd does not automate": {
			content: "kind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    fluxcd.io/automated: \"true\"\ndata:\n  image: a:1\n",
			lines:   []int{7},
			want:    "kind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    fluxcd.io/automated: \"true\"\ndata:\n  image: a:1\n",
		},
		"several documents: only the one with the line": {
			content: "---\n" + automatedDeployment + "---\n" + strings.Replace(automatedDeployment, "name: api\n", "name: web\n", 1),
			lines:   []int{16 + 14},
			want: "---\n" + automatedDeployment + "---\n" + strings.Replace(strings.Replace(automatedDeployment, "name: api\n", "name: web\n", 1),
				"    fluxcd.io/automated: \"true\"\n", "    fluxcd.io/automated: \"true\"\n"+lockLines("    ", "\n"), 1),
			locked: []Workload{{Namespace: "tracker", Kind: "Deployment", Name: "web", Line: 18, Release: "d4cc490", User: "octocat"}},
		},
		"a line in another kind of document before the workload": {
			content: "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: a:1\n---\n" + automatedDeployment,
			lines:   []int{5},
			want:    "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: a:1\n---\n" + automatedDeployment,
		},
		"windows line endings": {
			content: strings.ReplaceAll(automatedDeployment, "\n", "\r\n"),
			lines:   []int{14},
			want: strings.ReplaceAll(strings.Replace(automatedDeployment,
				"    fluxcd.io/automated: \"true\"\n", "    fluxcd.io/automated: \"true\"\n"+lockLines("    ", "\n"), 1), "\n", "\r\n"),
			locked: []Workload{{Namespace: "tracker", Kind: "Deployment", Name: "api", Line: 2, Release: "d4cc490", User: "octocat"}},
		},
		"automated annotation on the last line without a newline": {
			content: "kind: CronJob\nmetadata:\n  name: job\n  annotations:\n    fluxcd.io/automated: \"true\"",
			lines:   []int{3},
			want:    "kind: CronJob\nmetadata:\n  name: job\n  annotations:\n    fluxcd.io/automated: \"true\"\n" + strings.TrimSuffix(lockLines("    ", "\n"), "\n"),
			locked:  []Workload{{Kind: "CronJob", Name: "job", Line: 1, Release: "d4cc490", User: "octocat"}},
		},
		"flow style annotations are left alone": {
			content: "kind: Deployment\nmetadata:\n  name: api\n  annotations: {fluxcd.io/automated: \"true\"}\nspec:\n  image: a:1\n",
			lines:   []int{6},
			want:    "kind: Deployment\nmetadata:\n  name: api\n  annotations: {fluxcd.io/automated: \"true\"}\nspec:\n  image: a:1\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, locked := LockV1([]byte(tc.content), tc.lines, "d4cc490e9d3f1a2b3c4d5e6f708192a3b4c5d6e7", "octocat")
			if string(got) != tc.want {
				t.Fatalf("LockV1 =\n%s\nwant\n%s", got, tc.want)
			}
			if !slices.Equal(locked, tc.locked) {
				t.Fatalf("locked %+v, want %+v", locked, tc.locked)
			}
			if found := LockedV1(got); !slices.Equal(found, tc.locked) {
				t.Fatalf("LockedV1 finds %+v, want %+v", found, tc.locked)
			}
			back, unlocked := UnlockV1(got, nil)
			if string(back) != tc.content {
				t.Fatalf("UnlockV1(LockV1(x)) =\n%q\nwant\n%q", back, tc.content)
			}
			if !slices.Equal(unlocked, tc.locked) {
				t.Fatalf("UnlockV1 unlocked %+v, want %+v", unlocked, tc.locked)
			}
		})
	}
}

func TestLockV1EscapesTheUser(t *testing.T) {
	got, locked := LockV1([]byte(automatedDeployment), []int{14}, "d4cc490", `Ann "the reviewer" O'Neil`)
	if len(locked) != 1 || locked[0].User != `Ann "the reviewer" O'Neil` {
		t.Fatalf("locked %+v", locked)
	}
	if !strings.Contains(string(got), `    fluxcd.io/locked_user: "Ann \"the reviewer\" O'Neil"`+"\n") {
		t.Fatalf("the user is not quoted:\n%s", got)
	}
	if found := LockedV1(got); len(found) != 1 || found[0].User != locked[0].User {
		t.Fatalf("LockedV1 reads back %+v", found)
	}
}

func TestLockV1DefaultUser(t *testing.T) {
	_, locked := LockV1([]byte(automatedDeployment), []int{14}, "d4cc490", "")
	if len(locked) != 1 || locked[0].User != "flux-rollback" {
		t.Fatalf("locked %+v, want the user flux-rollback", locked)
	}
}

func TestLockedV1(t *testing.T) {
	lockedBy := func(msg string) string {
		return strings.Replace(automatedDeployment, "    fluxcd.io/tag.api", "    fluxcd.io/locked: \"true\"\n    fluxcd.io/locked_msg: "+msg+"\n    fluxcd.io/locked_user: ann\n    fluxcd.io/tag.api", 1)
	}
	cases := map[string]struct {
		content string
		want    []Workload
	}{
		"locked by flux-rollback, entries moved by hand": {lockedBy(`"flux-rollback: rolled back 0a1b2c3"`),
			[]Workload{{Namespace: "tracker", Kind: "Deployment", Name: "api", Line: 2, Release: "0a1b2c3", User: "ann"}}},
		"locked by a person":             {lockedBy(`"incident 42"`), nil},
		"message mentions flux-rollback": {lockedBy(`"see flux-rollback: rolled back 0a1b2c3 earlier"`), nil},
		"not locked":                     {automatedDeployment, nil},
		"not YAML":                       {"a: [\n", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := LockedV1([]byte(tc.content)); !slices.Equal(got, tc.want) {
				t.Fatalf("LockedV1 = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUnlockV1(t *testing.T) {
	two := "---\n" + automatedDeployment + "---\n" + strings.Replace(automatedDeployment, "name: api\n", "name: web\n", 1)
	first, _ := LockV1([]byte(two), []int{10}, "1111111", "ann")
	both, _ := LockV1(first, []int{16 + 10}, "2222222", "bob")
	if got := LockedV1(both); len(got) != 2 {
		t.Fatalf("LockedV1 finds %+v, want two workloads", got)
	}
	cases := map[string]struct {
		releases []string
		want     string
		names    []string
	}{
		"every release":             {nil, two, []string{"api", "web"}},
		"one release":               {[]string{"2222222"}, string(first), []string{"web"}},
		"a full SHA of the release": {[]string{"1111111" + strings.Repeat("0", 33)}, unlockOnly(t, both, "1111111"), []string{"api"}},
		"a release not locked":      {[]string{"3333333"}, string(both), nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, unlocked := UnlockV1(both, tc.releases)
			if string(got) != tc.want {
				t.Fatalf("UnlockV1 =\n%s\nwant\n%s", got, tc.want)
			}
			var names []string
			for _, w := range unlocked {
				names = append(names, w.Name)
			}
			if !slices.Equal(names, tc.names) {
				t.Fatalf("unlocked %v, want %v", names, tc.names)
			}
		})
	}
}

// unlockOnly removes, by hand, the three lock lines of release from content.
func unlockOnly(t *testing.T, content []byte, release string) string {
	t.Helper()
	block := lockLines("    ", "\n")
	block = strings.Replace(block, "d4cc490", release, 1)
	block = strings.Replace(block, "octocat", "ann", 1)
	if !strings.Contains(string(content), block) {
		t.Fatalf("no lock block for %s in\n%s", release, content)
	}
	return strings.Replace(string(content), block, "", 1)
}
