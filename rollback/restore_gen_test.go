package rollback_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxrollback/flux-rollback/fakegithub"
	"github.com/fluxrollback/flux-rollback/internal/gitoracle"
	"github.com/fluxrollback/flux-rollback/rollback"
)

// This file generates GitOps histories: random sequences of Flux v1
// releases (kustomization images: entries and plain image: fields) and Flux
// v2 releases (setter markers, one policy sometimes in two files, whole
// references and tag-only fields), interleaved with people's edits of other
// lines and files and, now and then, of the references themselves. It picks
// a release C, asks rollback.Service (through the go-github adapter over the
// embedded GitHub) to restore it on the head H, and checks the restore
// commit R against a model of the history and, with the real git binary,
// that `git diff -U0 H R` sets exactly the references C changed back to
// their values in C's parent and touches nothing else.

// genKind says how a reference is written.
type genKind int

const (
	genKustomize  genKind = iota // "  newTag: <tag>" of a kustomization images: entry
	genImageField                // "image: <name>:<tag>" without a marker (Flux v1)
	genMarker                    // a line carrying a Flux v2 setter marker
)

// genRef is one image reference of the model.
type genRef struct {
	kind   genKind
	image  string // the entry's or field's image name; for markers the image when the line shows it
	setter string // the marker's setter
	prefix string // the line up to the value
	suffix string // the line after the value
	value  string // the tag
	file   *genFile
	gone   bool     // its line was deleted or lost its marker
	had    []string // every value it has had
}

// genLine is a line of a model file: literal text or a reference.
type genLine struct {
	text string
	ref  *genRef
}

func (l *genLine) String() string {
	if l.ref != nil {
		return l.ref.prefix + l.ref.value + l.ref.suffix
	}
	return l.text
}

type genFile struct {
	path, mode string
	eol        string // "\r\n" for a file written on Windows, else "\n"
	lines      []*genLine
}

func (f *genFile) render() string {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.String())
		b.WriteString(f.eol)
	}
	return b.String()
}

// lineOf is the 1-based line of r in f, 0 when it is not there.
func (f *genFile) lineOf(r *genRef) int {
	for i, l := range f.lines {
		if l.ref == r {
			return i + 1
		}
	}
	return 0
}

// genChange is one reference a release changed.
type genChange struct {
	ref      *genRef
	path     string
	line     int // in the release's version of the file
	from, to string
}

type genCommit struct {
	sha     string
	release bool
	date    time.Time
	changes []genChange // of a release, in file and line order
}

// genHistory builds a history in the model and on the embedded GitHub.
type genHistory struct {
	rng       *rand.Rand
	repo      *fakegithub.Repo
	files     []*genFile
	refs      []*genRef
	commits   []*genCommit
	committed map[string]fakegithub.File
	clock     time.Time
	serial    int // makes fresh names and tags unique
}

var (
	genFluxV1 = fakegithub.Person{Name: "Weave Flux", Email: "support@weave.works", Login: "fluxcd"}
	genFluxV2 = fakegithub.Person{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com", Login: "fluxcdbot"}
	genHuman  = fakegithub.Person{Name: "Alice Example", Email: "alice@example.com", Login: "alice"}
)

func (g *genHistory) lit(f *genFile, text string) { f.lines = append(f.lines, &genLine{text: text}) }

func (g *genHistory) ref(f *genFile, r *genRef) {
	r.file = f
	r.had = []string{r.value}
	g.refs = append(g.refs, r)
	f.lines = append(f.lines, &genLine{ref: r})
}

func (g *genHistory) addFile(p, mode string) *genFile {
	f := &genFile{path: p, mode: mode, eol: "\n"}
	g.files = append(g.files, f)
	return f
}

// seed lays out the repository's first version.
func (g *genHistory) seed() {
	k := g.addFile("clusters/prod/kustomization.yaml", "100644")
	for _, l := range []string{"apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "- api.yaml", "- frontend.yaml", "images:"} {
		g.lit(k, l)
	}
	images := []string{"gcr.io/acme/api", "gcr.io/acme/api-js", "gcr.io/acme/frontend", "gcr.io/acme/jobs"}
	for _, img := range images[:2+g.rng.IntN(3)] {
		g.lit(k, "- name: "+img)
		g.ref(k, &genRef{kind: genKustomize, image: img, prefix: "  newTag: ", value: g.kustomizeTag()})
	}

	w := g.addFile("apps/worker/deployment.yaml", "100644")
	for _, l := range []string{"apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: worker", "spec:", "  replicas: 1", "  template:", "    spec:", "      containers:", "      - name: worker"} {
		g.lit(w, l)
	}
	g.ref(w, &genRef{kind: genImageField, image: "quay.io/acme/worker", prefix: "        image: quay.io/acme/worker:", value: g.semverTag(1)})
	g.lit(w, "      - name: sidecar")
	g.ref(w, &genRef{kind: genImageField, image: "quay.io/acme/sidecar", prefix: "        image: quay.io/acme/sidecar:", value: g.semverTag(0)})

	webTag := g.semverTag(1)
	for _, p := range []string{"apps/web/deployment.yaml", "apps/web-canary/deployment.yaml"} {
		mode := "100644"
		if strings.Contains(p, "canary") && g.rng.IntN(2) == 0 {
			mode = "100755" // the restore must keep it
		}
		d := g.addFile(p, mode)
		if strings.Contains(p, "canary") && g.rng.IntN(3) == 0 {
			d.eol = "\r\n" // the restore must keep the line endings
		}
		for _, l := range []string{"apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: " + path.Base(path.Dir(p)), "spec:", "  replicas: 2", "  template:", "    spec:", "      containers:", "      - name: web"} {
			g.lit(d, l)
		}
		g.ref(d, &genRef{kind: genMarker, image: "ghcr.io/acme/web", setter: "flux-system:web",
			prefix: "        image: ghcr.io/acme/web:", value: webTag, suffix: ` # {"$imagepolicy": "flux-system:web"}`})
		g.lit(d, "        ports:")
		g.lit(d, "        - containerPort: 8080")
	}

	v := g.addFile("apps/api/values.yaml", "100644")
	g.lit(v, "replicaCount: 2")
	g.lit(v, "image:")
	g.lit(v, `  repository: ghcr.io/acme/api # {"$imagepolicy": "flux-system:api:name"}`)
	g.ref(v, &genRef{kind: genMarker, setter: "flux-system:api:tag", prefix: "  tag: ", value: g.semverTag(3), suffix: ` # {"$imagepolicy": "flux-system:api:tag"}`})
	g.lit(v, "service:")
	g.lit(v, "  port: 80")

	g.lit(g.addFile("README.md", "100644"), "# Deploy configuration")
	s := g.addFile("scripts/check.sh", "100755")
	g.lit(s, "#!/bin/sh")
	g.lit(s, "kubectl kustomize clusters/prod >/dev/null")
}

func (g *genHistory) kustomizeTag() string {
	g.serial++
	return fmt.Sprintf("master-%07x", (uint32(g.serial)*2654435761)&0xfffffff)
}

func (g *genHistory) semverTag(major int) string {
	g.serial++
	return fmt.Sprintf("%d.%d.%d", major, g.serial/10, g.serial%10)
}

// nextValue is a fresh tag for r, or now and then one it had before.
func (g *genHistory) nextValue(r *genRef) string {
	if g.rng.IntN(6) == 0 {
		var old []string
		for _, v := range r.had {
			if v != r.value {
				old = append(old, v)
			}
		}
		if len(old) > 0 {
			return old[g.rng.IntN(len(old))]
		}
	}
	if r.kind == genKustomize {
		return g.kustomizeTag()
	}
	major, _, _ := strings.Cut(r.value, ".")
	n, _ := strconv.Atoi(major)
	return g.semverTag(n)
}

func (g *genHistory) set(r *genRef, v string) {
	r.value = v
	if !slices.Contains(r.had, v) {
		r.had = append(r.had, v)
	}
}

// commit records the model's files that differ from the last commit; it
// returns false when nothing differs.
func (g *genHistory) commit(message string, author fakegithub.Person, changes []genChange) (bool, error) {
	files := map[string]*fakegithub.File{}
	seen := map[string]bool{}
	for _, f := range g.files {
		seen[f.path] = true
		want := fakegithub.File{Content: f.render(), Mode: f.mode}
		if g.committed[f.path] != want {
			files[f.path] = &fakegithub.File{Content: want.Content, Mode: want.Mode}
		}
	}
	for p := range g.committed {
		if !seen[p] {
			files[p] = nil
		}
	}
	if len(files) == 0 {
		return false, nil
	}
	g.clock = g.clock.Add(time.Minute)
	author.Date = g.clock
	sha, err := g.repo.Commit("main", fakegithub.CommitSpec{Message: message, Author: author, Files: files})
	if err != nil {
		return false, err
	}
	for p, f := range files {
		if f == nil {
			delete(g.committed, p)
		} else {
			g.committed[p] = *f
		}
	}
	sort.Slice(changes, func(i, j int) bool {
		if changes[i].path != changes[j].path {
			return changes[i].path < changes[j].path
		}
		return changes[i].line < changes[j].line
	})
	g.commits = append(g.commits, &genCommit{sha: sha, release: changes != nil, date: g.clock, changes: changes})
	return true, nil
}

func (g *genHistory) live(kinds ...genKind) []*genRef {
	var out []*genRef
	for _, r := range g.refs {
		if !r.gone && slices.Contains(kinds, r.kind) {
			out = append(out, r)
		}
	}
	return out
}

func (g *genHistory) change(r *genRef, v string) genChange {
	from := r.value
	g.set(r, v)
	return genChange{ref: r, path: r.file.path, line: r.file.lineOf(r), from: from, to: v}
}

// releaseV1 is fluxd releasing one or two images.
func (g *genHistory) releaseV1() error {
	refs := g.live(genKustomize, genImageField)
	if len(refs) == 0 {
		return nil
	}
	g.rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	refs = refs[:min(len(refs), 1+g.rng.IntN(2))]
	var changes []genChange
	var last string
	for _, r := range refs {
		v := g.nextValue(r)
		if v == r.value {
			continue
		}
		changes = append(changes, g.change(r, v))
		last = r.image + ":" + v
	}
	message := "Auto-release " + last + "\n\n[ci skip]"
	if len(changes) > 1 {
		message = fmt.Sprintf("Auto-release multiple (%d) images\n\n[ci skip]", len(changes))
	}
	_, err := g.commit(message, genFluxV1, changes)
	return err
}

// releaseV2 is Flux's image automation updating one or two policies, in
// every file that marks them.
func (g *genHistory) releaseV2() error {
	var setters []string
	for _, r := range g.live(genMarker) {
		if !slices.Contains(setters, r.setter) {
			setters = append(setters, r.setter)
		}
	}
	if len(setters) == 0 {
		return nil
	}
	g.rng.Shuffle(len(setters), func(i, j int) { setters[i], setters[j] = setters[j], setters[i] })
	var changes []genChange
	for _, s := range setters[:min(len(setters), 1+g.rng.IntN(2))] {
		var refs []*genRef
		for _, r := range g.live(genMarker) {
			if r.setter == s {
				refs = append(refs, r)
			}
		}
		v := g.nextValue(refs[g.rng.IntN(len(refs))])
		for _, r := range refs {
			if r.value != v {
				changes = append(changes, g.change(r, v))
			}
		}
	}
	_, err := g.commit("Update from image update automation\n\nAutomation name: flux-system/apps\n", genFluxV2, changes)
	return err
}

// humanEdit is a person's commit: other lines and files, sometimes a v1
// reference pinned by hand, rarely a reference removed or its file moved.
func (g *genHistory) humanEdit() error {
	var what []string
	for n := 1 + g.rng.IntN(2); n > 0; n-- {
		what = append(what, g.humanChange())
	}
	_, err := g.commit(strings.Join(what, "; "), genHuman, nil)
	return err
}

func (g *genHistory) fileAt(p string) *genFile {
	for _, f := range g.files {
		if f.path == p {
			return f
		}
	}
	return nil
}

func (g *genHistory) humanChange() string {
	g.serial++
	n := g.serial
	yamlFiles := func() []*genFile {
		var out []*genFile
		for _, f := range g.files {
			if strings.HasSuffix(f.path, ".yaml") && !strings.HasSuffix(f.path, "kustomization.yaml") {
				out = append(out, f)
			}
		}
		return out
	}
	switch k := g.rng.IntN(100); {
	case k < 15:
		g.lit(g.fileAt("README.md"), fmt.Sprintf("Note %d.", n))
		return "Document the deploy"
	case k < 30:
		f := g.files[0]
		at := slices.IndexFunc(f.lines, func(l *genLine) bool { return l.text == "resources:" }) + 1
		f.lines = slices.Insert(f.lines, at, &genLine{text: fmt.Sprintf("- extra-%d.yaml", n)})
		return "Add a resource"
	case k < 45:
		fs := yamlFiles()
		f := fs[g.rng.IntN(len(fs))]
		for _, l := range f.lines {
			if strings.HasPrefix(strings.TrimSpace(l.text), "replica") {
				key, _, _ := strings.Cut(l.text, ":")
				l.text = fmt.Sprintf("%s: %d", key, 1+n%7)
				return "Scale " + f.path
			}
		}
		return "Nothing to scale"
	case k < 60:
		fs := yamlFiles()
		f := fs[g.rng.IntN(len(fs))]
		at := 1 + g.rng.IntN(len(f.lines))
		f.lines = slices.Insert(f.lines, at, &genLine{text: fmt.Sprintf("# reviewed %d", n)})
		return "Annotate " + f.path
	case k < 68:
		g.lit(g.addFile(fmt.Sprintf("docs/note-%d.md", n), "100644"), fmt.Sprintf("Note %d", n))
		return "Add a note"
	case k < 78:
		refs := g.live(genKustomize, genImageField)
		if len(refs) == 0 {
			return "Nothing to pin"
		}
		r := refs[g.rng.IntN(len(refs))]
		v := g.nextValue(r)
		if g.rng.IntN(2) == 0 {
			v = r.had[g.rng.IntN(len(r.had))] // back to a version it had
		}
		g.set(r, v)
		return "Pin " + r.image + " by hand"
	case k < 86:
		refs := g.live(genKustomize)
		if len(refs) == 0 {
			return "Nothing to comment"
		}
		r := refs[g.rng.IntN(len(refs))]
		r.suffix = fmt.Sprintf(" # checked %d", n)
		return "Comment on " + r.image
	case k < 90:
		refs := g.live(genMarker)
		if len(refs) == 0 {
			return "No marker"
		}
		r := refs[g.rng.IntN(len(refs))]
		r.gone = true
		i := r.file.lineOf(r) - 1
		r.file.lines[i] = &genLine{text: r.prefix + r.value}
		return "Stop automating " + r.setter + " in " + r.file.path
	case k < 94:
		refs := g.live(genKustomize)
		if len(refs) < 2 {
			return "Keep the images"
		}
		r := refs[g.rng.IntN(len(refs))]
		r.gone = true
		i := r.file.lineOf(r) - 1
		r.file.lines = slices.Delete(r.file.lines, i-1, i+1)
		return "Drop " + r.image
	default:
		fs := yamlFiles()
		f := fs[g.rng.IntN(len(fs))]
		f.path = fmt.Sprintf("apps/moved-%d/%s", n, path.Base(f.path))
		return "Move " + path.Base(f.path)
	}
}

// generate makes the first commit and steps more.
func (g *genHistory) generate(steps int) error {
	g.seed()
	if _, err := g.commit("Add the deploy configuration", genHuman, nil); err != nil {
		return err
	}
	for range steps {
		var err error
		switch k := g.rng.IntN(100); {
		case k < 30:
			err = g.releaseV1()
		case k < 60:
			err = g.releaseV2()
		default:
			err = g.humanEdit()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// undoByHand commits a person's edit setting c's Flux v1 references back
// to their values before c. Marked references are left alone: a change of
// only marked values is a release, whoever makes it.
func (g *genHistory) undoByHand(c *genCommit) error {
	for _, ch := range c.changes {
		if ch.ref.kind != genMarker && !ch.ref.gone {
			g.set(ch.ref, ch.from)
		}
	}
	_, err := g.commit("Go back by hand", genHuman, nil)
	return err
}

func (g *genHistory) releases() []*genCommit {
	var out []*genCommit
	for _, c := range g.commits {
		if c.release && len(c.changes) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// missingPath is the first file (in the release's order) where a reference
// C changed is no longer found on the head, or "".
func missingPath(c *genCommit) string {
	for _, ch := range c.changes {
		if ch.ref.gone || ch.ref.file.path != ch.path {
			return ch.path
		}
	}
	return ""
}

// expectedTree is every file of the head with C's references set back to
// their values before C.
func (g *genHistory) expectedTree(c *genCommit) map[string]fakegithub.File {
	saved := make([]string, len(c.changes))
	for i, ch := range c.changes {
		saved[i] = ch.ref.value
		ch.ref.value = ch.from
	}
	out := map[string]fakegithub.File{}
	for _, f := range g.files {
		out[f.path] = fakegithub.File{Content: f.render(), Mode: f.mode}
	}
	for i, ch := range c.changes {
		ch.ref.value = saved[i]
	}
	return out
}

// genLineChange is one line a restore rewrites.
type genLineChange struct {
	path     string
	line     int
	old, new string
}

// expectedLines are the lines of the head the restore of c rewrites.
func expectedLines(c *genCommit) []genLineChange {
	var out []genLineChange
	for _, ch := range c.changes {
		r := ch.ref
		if r.value == ch.from {
			continue
		}
		eol := strings.TrimSuffix(r.file.eol, "\n") // git diff shows a CR as part of its line
		out = append(out, genLineChange{path: r.file.path, line: r.file.lineOf(r),
			old: r.prefix + r.value + r.suffix + eol, new: r.prefix + ch.from + r.suffix + eol})
	}
	sortLineChanges(out)
	return out
}

func sortLineChanges(s []genLineChange) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].path != s[j].path {
			return s[i].path < s[j].path
		}
		return s[i].line < s[j].line
	})
}

// expectedSuperseded is what Revert's refusal must report: for each change
// of c, the later releases of the same reference while it stayed in the
// same file.
func (g *genHistory) expectedSuperseded(c *genCommit) []rollback.MovedImage {
	at := slices.Index(g.commits, c)
	var out []rollback.MovedImage
	for _, ch := range c.changes {
		m := rollback.MovedImage{Before: ch.from, Image: ch.ref.image}
		if ch.ref.kind == genMarker {
			parts := strings.Split(ch.ref.setter, ":")
			m.Policy = parts[0] + ":" + parts[1]
		}
		for _, later := range g.commits[at+1:] {
			for _, lc := range later.changes {
				if lc.ref == ch.ref && lc.path == ch.path {
					m.Later = append(m.Later, rollback.LaterRelease{SHA: later.sha, Tag: lc.to, Date: later.date.UTC().Format(time.RFC3339)})
					m.Now = lc.to
				}
			}
		}
		// One policy in two files moves the same way in both: reported once.
		if len(m.Later) > 0 && !slices.ContainsFunc(out, func(o rollback.MovedImage) bool {
			return o.Image == m.Image && o.Policy == m.Policy && o.Before == m.Before && slices.Equal(o.Later, m.Later)
		}) {
			out = append(out, m)
		}
	}
	return out
}

// gitDiffOracle writes trees of the embedded GitHub into a real repository
// and reads `git diff -U0` between pairs of them. The work is batched (one
// fast-import, one diff-tree) because starting git is what costs.
type gitDiffOracle struct {
	stream bytes.Buffer // fast-import commands
	n      int
	checks []gitDiffCheck
}

// gitDiffCheck is one restore whose diff git is to confirm.
type gitDiffCheck struct {
	name         string
	head, result string // tree SHAs as the embedded GitHub computed them
	want         []genLineChange
}

// add queues the trees of a restore's head and result, and the lines the
// diff between them must rewrite. Git stores the trees under the SHAs it
// computes: a tree that git would write differently is missing later.
func (o *gitDiffOracle) add(name string, headTree, resultTree string, head, result map[string]fakegithub.File, want []genLineChange) {
	for _, files := range []map[string]fakegithub.File{head, result} {
		o.n++
		fmt.Fprintf(&o.stream, "commit refs/heads/t%d\ncommitter t <t@example.com> 0 +0000\ndata 0\ndeleteall\n", o.n)
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			f := files[p]
			fmt.Fprintf(&o.stream, "M %s inline %s\ndata %d\n%s\n", f.Mode, p, len(f.Content), f.Content)
		}
	}
	o.checks = append(o.checks, gitDiffCheck{name: name, head: headTree, result: resultTree, want: want})
}

// verify runs git and checks every queued restore.
func (o *gitDiffOracle) verify(t *testing.T) {
	t.Helper()
	if len(o.checks) == 0 {
		return
	}
	repo, err := gitoracle.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Git(o.stream.Bytes(), "fast-import", "--quiet"); err != nil {
		t.Fatalf("git fast-import: %v", err)
	}
	var pairs bytes.Buffer
	for _, c := range o.checks {
		fmt.Fprintf(&pairs, "%s %s\n", c.head, c.result)
	}
	out, err := repo.Git(pairs.Bytes(), "diff-tree", "--stdin", "-p", "-U0", "--no-color", "--no-renames", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
	if err != nil {
		t.Fatalf("git diff-tree (the embedded GitHub and git disagree on a tree?): %v", err)
	}
	diffs := map[string]string{}
	var current string
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if a, b, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " "); ok && len(a) == 40 && len(b) == 40 && !strings.ContainsAny(a+b, " -+@") {
			current = a + " " + b
			continue
		}
		diffs[current] += line
	}
	for _, c := range o.checks {
		got, err := parseRewrites(diffs[c.head+" "+c.result])
		if err != nil {
			t.Errorf("%s: git diff of the restore: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: git diff -U0 of the restore rewrites\n%v\nwant\n%v", c.name, got, c.want)
		}
	}
}

// parseRewrites returns the lines a `git diff -U0` rewrites, and an error
// when it holds anything else: added or removed lines, mode changes, new,
// deleted or binary files, a lost final newline.
func parseRewrites(diff string) ([]genLineChange, error) {
	var changes []genLineChange
	var file string
	var removed, added []string
	var oldStart, newStart int
	flush := func() error {
		if len(removed) != len(added) {
			return fmt.Errorf("%s line %d: %d lines removed, %d added", file, oldStart, len(removed), len(added))
		}
		if len(removed) > 0 && oldStart != newStart {
			return fmt.Errorf("%s: hunk moves from line %d to %d", file, oldStart, newStart)
		}
		for i := range removed {
			changes = append(changes, genLineChange{path: file, line: oldStart + i, old: removed[i], new: added[i]})
		}
		removed, added = nil, nil
		return nil
	}
	for _, line := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "diff --git "):
			if err := flush(); err != nil {
				return nil, err
			}
			file = ""
		case strings.HasPrefix(line, "index "), strings.HasPrefix(line, "--- a/"):
		case strings.HasPrefix(line, "+++ b/"):
			file = strings.TrimPrefix(line, "+++ b/")
		case strings.HasPrefix(line, "@@ "):
			if err := flush(); err != nil {
				return nil, err
			}
			var oldR, newR string
			if _, err := fmt.Sscanf(line, "@@ %s %s @@", &oldR, &newR); err != nil {
				return nil, fmt.Errorf("parse %q: %w", line, err)
			}
			oldStart, _ = strconv.Atoi(strings.Split(strings.TrimPrefix(oldR, "-"), ",")[0])
			newStart, _ = strconv.Atoi(strings.Split(strings.TrimPrefix(newR, "+"), ",")[0])
		case strings.HasPrefix(line, "-") && file != "":
			removed = append(removed, line[1:])
		case strings.HasPrefix(line, "+") && file != "":
			added = append(added, line[1:])
		default:
			return nil, fmt.Errorf("unexpected diff line %q", line)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	sortLineChanges(changes)
	return changes, nil
}

func TestRestoreOfGeneratedHistoriesChangesOnlyTheReleasedReferences(t *testing.T) {
	cases := 120
	if testing.Short() {
		cases = 25
	}
	hub := newRestoreHub(t)
	oracle := &gitDiffOracle{}
	ctx := context.Background()
	outcomes := map[string]int{}
	for i := range cases {
		seed := uint64(i) + 1
		name := fmt.Sprintf("seed-%d", seed)
		repo, svc := hub.repo(name)
		g := &genHistory{
			rng: rand.New(rand.NewPCG(seed, 0x5eed)), repo: repo,
			committed: map[string]fakegithub.File{}, clock: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC),
		}
		if err := g.generate(6 + g.rng.IntN(15)); err != nil {
			t.Fatalf("%s: generate: %v", name, err)
		}
		rels := g.releases()
		if len(rels) == 0 {
			continue
		}
		c := rels[g.rng.IntN(len(rels))]
		if i%5 == 0 {
			// Sometimes a person has put the release's images back already.
			if err := g.undoByHand(c); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		head := g.commits[len(g.commits)-1].sha
		outcome := checkGeneratedRestore(t, name, g, c, head, svc, oracle, ctx)
		outcomes[outcome]++
		if checkGeneratedSuperseded(t, name, g, c, svc, ctx) {
			outcomes["superseded reported"]++
		}
		if t.Failed() {
			t.Logf("%s: history (oldest first):\n%s", name, g.describe())
			t.FailNow()
		}
	}
	oracle.verify(t)
	t.Logf("outcomes: %v", outcomes)
	// The generator must exercise every outcome, or it tests less than it seems.
	for _, o := range []string{"restored", "nothing to revert", "missing", "superseded reported"} {
		if outcomes[o] == 0 {
			t.Errorf("no case ended %s: %v", o, outcomes)
		}
	}
}

func (g *genHistory) describe() string {
	var b strings.Builder
	for _, c := range g.commits {
		info, _ := g.repo.CommitInfo(c.sha)
		fmt.Fprintf(&b, "%s %q", c.sha[:7], subjectOf(info.Message))
		for _, ch := range c.changes {
			fmt.Fprintf(&b, " [%s:%d %s -> %s]", ch.path, ch.line, ch.from, ch.to)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func subjectOf(message string) string {
	s, _, _ := strings.Cut(message, "\n")
	return s
}

// checkGeneratedRestore runs the restore of c and checks it against the
// model and git; it returns the outcome's name.
func checkGeneratedRestore(t *testing.T, name string, g *genHistory, c *genCommit, head string, svc *rollback.Service, oracle *gitDiffOracle, ctx context.Context) string {
	t.Helper()
	out, err := svc.Restore(ctx, restoreRequest(c.sha))
	var refusal *rollback.Refusal
	if err != nil && !errors.As(err, &refusal) {
		t.Fatalf("%s: restore %s: %v", name, c.sha[:7], err)
	}
	if p := missingPath(c); p != "" {
		if refusal == nil || refusal.Reason != rollback.ReasonMissingImage || !strings.Contains(refusal.Detail, p) {
			t.Errorf("%s: restore of %s: got %v, %v; want a refusal naming %s", name, c.sha[:7], out, err, p)
		}
		return "missing"
	}
	want := expectedLines(c)
	if len(want) == 0 {
		if refusal == nil || refusal.Reason != rollback.ReasonNothingToRevert {
			t.Errorf("%s: restore of %s whose images are back already: got %v, %v; want nothing to revert", name, c.sha[:7], out, err)
		}
		return "nothing to revert"
	}
	if err != nil {
		t.Errorf("%s: restore of %s refused: %v", name, c.sha[:7], err)
		return "refused"
	}

	if wantBranch := "rollback-" + c.sha[:7] + "-restore"; out.Branch != wantBranch || out.PullRequest == nil {
		t.Errorf("%s: outcome %+v, want branch %s with a pull request", name, out, wantBranch)
	}
	restored, ok := g.repo.Ref("heads/" + out.Branch)
	if !ok {
		t.Fatalf("%s: no branch %s", name, out.Branch)
	}
	info, err := g.repo.CommitInfo(restored)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Parents) != 1 || info.Parents[0] != head {
		t.Errorf("%s: restore commit's parents %v, want the head %s", name, info.Parents, head)
	}
	if suffix := "This restores the image references changed by commit " + c.sha + ".\n\nRollback-requested-by: @alice\n"; !strings.HasSuffix(info.Message, suffix) {
		t.Errorf("%s: restore message %q does not end with %q", name, info.Message, suffix)
	}

	// The model's expectation, file by file and mode by mode.
	got, err := g.repo.ReadTree(restored)
	if err != nil {
		t.Fatal(err)
	}
	wantTree := g.expectedTree(c)
	for p, f := range wantTree {
		if gf, ok := got[p]; !ok || gf.Content != f.Content || gf.Mode != f.Mode {
			t.Errorf("%s: %s after the restore (mode %s):\n%s\nwant (mode %s):\n%s", name, p, gf.Mode, gf.Content, f.Mode, f.Content)
		}
	}
	for p := range got {
		if _, ok := wantTree[p]; !ok {
			t.Errorf("%s: the restore added %s", name, p)
		}
	}

	// git's view, checked once every case has run.
	headTree, err := g.repo.ReadTree(head)
	if err != nil {
		t.Fatal(err)
	}
	headInfo, err := g.repo.CommitInfo(head)
	if err != nil {
		t.Fatal(err)
	}
	oracle.add(name, headInfo.Tree, info.Tree, headTree, got, want)
	return "restored"
}

// checkGeneratedSuperseded checks the later releases a refused revert of c
// reports; it returns whether the refusal reported any.
func checkGeneratedSuperseded(t *testing.T, name string, g *genHistory, c *genCommit, svc *rollback.Service, ctx context.Context) bool {
	t.Helper()
	_, err := svc.Revert(ctx, restoreRequest(c.sha))
	var refusal *rollback.Refusal
	if !errors.As(err, &refusal) || (refusal.Reason != rollback.ReasonConflict && refusal.Reason != rollback.ReasonNothingToRevert) {
		return false // the exact revert applies, or is refused for another reason
	}
	want := g.expectedSuperseded(c)
	var got []rollback.MovedImage
	if refusal.Superseded != nil {
		got = refusal.Superseded.Images
		if len(got) == 0 {
			t.Errorf("%s: Superseded holds no image", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: revert of %s reports later releases\n%+v\nwant\n%+v", name, c.sha[:7], got, want)
		return false
	}
	for i := range want {
		if want[i].Image == "" {
			// A tag field's image shows in the release's diff only when its
			// repository line is near enough.
			want[i].Image = got[i].Image
		}
		if got[i].Image != want[i].Image || got[i].Policy != want[i].Policy || got[i].Before != want[i].Before || got[i].Now != want[i].Now || !slices.Equal(got[i].Later, want[i].Later) {
			t.Errorf("%s: revert of %s reports\n%+v\nwant\n%+v", name, c.sha[:7], got[i], want[i])
		}
	}
	return len(got) > 0
}
