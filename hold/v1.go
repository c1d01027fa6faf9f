package hold

import (
	"errors"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Flux v1 (fluxd) keeps a workload's policies in annotations under either
// prefix (fluxcd/flux pkg/cluster/kubernetes/resource/resource.go); a new
// policy is written under the current one. `fluxctl lock` sets "locked" to
// "true" and, with the cause's user, "locked_user" and "locked_msg"
// (cmd/fluxctl/policy_cmd.go); the automation leaves a workload alone while
// "locked" is "true" (pkg/daemon/images.go).
const (
	v1Prefix    = "fluxcd.io/"
	v1OldPrefix = "flux.weave.works/"

	v1Automated  = "automated"
	v1Locked     = "locked"
	v1LockedMsg  = "locked_msg"
	v1LockedUser = "locked_user"

	// lockMsgPrefix starts the lock message flux-rollback writes; the
	// release rolled back follows it.
	lockMsgPrefix = "flux-rollback: rolled back "
	// defaultLockUser is the lock's user when the caller names none.
	defaultLockUser = "flux-rollback"
)

var lockMsg = regexp.MustCompile(`^` + regexp.QuoteMeta(lockMsgPrefix) + `(\S+)$`)

// v1Workloads are the kinds fluxd automates: the resources with containers
// (fluxcd/flux pkg/cluster/kubernetes/resource/resource.go unmarshalKind).
var v1Workloads = map[string]bool{
	"Deployment": true, "DaemonSet": true, "StatefulSet": true, "CronJob": true,
	"HelmRelease": true, "FluxHelmRelease": true,
}

// Workload is a Flux v1 workload in a file.
type Workload struct {
	Namespace, Kind, Name string
	Line                  int // the line of the document's kind, for messages
	// Release is the release named by flux-rollback's lock message: the
	// release LockV1 was given, or the one LockedV1 read back.
	Release string
	// User is the lock's user.
	User string
}

// v1Doc is one workload document of a file.
type v1Doc struct {
	Workload
	workload    bool       // a kind fluxd automates
	start, end  int        // the document's lines: [start, end)
	annotations *yaml.Node // metadata.annotations, or nil
}

// annotation returns the value of a policy annotation under either prefix,
// the current prefix first.
func (d v1Doc) annotation(policy string) (*yaml.Node, *yaml.Node) {
	for _, prefix := range []string{v1Prefix, v1OldPrefix} {
		if k, v := mappingEntry(d.annotations, prefix+policy); k != nil {
			return k, v
		}
	}
	return nil, nil
}

func (d v1Doc) automated() bool {
	for _, prefix := range []string{v1Prefix, v1OldPrefix} {
		if _, v := mappingEntry(d.annotations, prefix+v1Automated); v != nil && v.Kind == yaml.ScalarNode && v.Value == "true" {
			return true
		}
	}
	return false
}

// v1Documents parses every document of content; ok is false when content
// is not YAML. A document's lines run from its first line of content (the
// file's first line for the first document) to the next one's.
func v1Documents(content []byte) ([]v1Doc, bool) {
	dec := yaml.NewDecoder(strings.NewReader(string(content)))
	var docs []v1Doc
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		d := v1Doc{start: root.Line}
		if len(docs) == 0 {
			d.start = 1
		} else {
			docs[len(docs)-1].end = root.Line
		}
		d.end = int(^uint(0) >> 1)
		kindKey, kind := mappingEntry(root, "kind")
		if root.Kind != yaml.MappingNode || kind == nil || !v1Workloads[kind.Value] {
			docs = append(docs, d)
			continue
		}
		md := mappingValue(root, "metadata")
		d.workload = true
		d.Kind, d.Line = kind.Value, kindKey.Line
		if v := mappingValue(md, "name"); v != nil {
			d.Name = v.Value
		}
		if v := mappingValue(md, "namespace"); v != nil {
			d.Namespace = v.Value
		}
		if an := mappingValue(md, "annotations"); an != nil && an.Kind == yaml.MappingNode {
			d.annotations = an
		}
		docs = append(docs, d)
	}
	return docs, true
}

// mappingEntry is the key and value nodes of key in a mapping node.
func mappingEntry(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// LockV1 adds the lock annotations to the automated workloads among the
// documents of content that contain any of the given 1-based lines (the
// lines the rollback set back); documents already locked, or carrying any
// lock annotation at all, are left alone. The three annotations go right
// below the automated one, at its indentation, as
//
//	fluxcd.io/locked: "true"
//	fluxcd.io/locked_msg: "flux-rollback: rolled back d4cc490"
//	fluxcd.io/locked_user: "octocat"
//
// and nothing else changes. The message names flux-rollback and the
// release so that LockedV1 and UnlockV1 recognise the lock from the file
// alone. user defaults to "flux-rollback".
func LockV1(content []byte, lines []int, release, user string) ([]byte, []Workload) {
	docs, ok := v1Documents(content)
	if !ok {
		return content, nil
	}
	release = shortSHA(release)
	if user == "" {
		user = defaultLockUser
	}
	ls := splitLines(content)
	inserts := map[int][]string{} // 0-based line index -> lines to add after it
	var locked []Workload
	for _, d := range docs {
		if !d.workload || !containsAny(lines, d.start, d.end) || !d.automated() {
			continue
		}
		if k, _ := d.annotation(v1Locked); k != nil {
			continue
		}
		if k, _ := d.annotation(v1LockedMsg); k != nil {
			continue
		}
		if k, _ := d.annotation(v1LockedUser); k != nil {
			continue
		}
		after, indent, ok := lockAnchor(d, ls)
		if !ok {
			continue
		}
		inserts[after] = []string{
			indent + v1Prefix + v1Locked + `: "true"`,
			indent + v1Prefix + v1LockedMsg + ": " + jsonString(lockMsgPrefix+release),
			indent + v1Prefix + v1LockedUser + ": " + jsonString(user),
		}
		w := d.Workload
		w.Release, w.User = release, user
		locked = append(locked, w)
	}
	if len(locked) == 0 {
		return content, nil
	}
	var b strings.Builder
	for i, l := range ls {
		b.WriteString(l)
		add, ok := inserts[i]
		if !ok {
			continue
		}
		last := !hasEOL(l)
		eol := l[len(trimEOL(l)):]
		if last {
			eol = lineEnding(ls)
		}
		if last {
			// The file ends without a line ending: so it still does
			// after the added lines.
			b.WriteString(eol)
		}
		for j, a := range add {
			b.WriteString(a)
			if j < len(add)-1 || !last {
				b.WriteString(eol)
			}
		}
	}
	out := []byte(b.String())
	// The added annotations must read back exactly as written.
	if got := LockedV1(out); !sameWorkloads(got, locked, content) {
		return content, nil
	}
	return out, locked
}

// sameWorkloads reports whether the workloads locked in out are those of
// the original content plus the ones just locked.
func sameWorkloads(got, locked []Workload, before []byte) bool {
	want := append(LockedV1(before), locked...)
	if len(got) != len(want) {
		return false
	}
	seen := map[Workload]int{}
	for _, w := range want {
		w.Line = 0
		seen[w]++
	}
	for _, w := range got {
		w.Line = 0
		if seen[w] == 0 {
			return false
		}
		seen[w]--
	}
	return true
}

// lockAnchor finds where the lock annotations go: below the automated
// annotation's line, at its indentation, when the annotations are a block
// mapping and that entry is one line.
func lockAnchor(d v1Doc, ls []string) (after int, indent string, ok bool) {
	if d.annotations == nil || d.annotations.Style&yaml.FlowStyle != 0 {
		return 0, "", false
	}
	for _, prefix := range []string{v1Prefix, v1OldPrefix} {
		k, v := mappingEntry(d.annotations, prefix+v1Automated)
		if k == nil || v.Value != "true" || v.Line != k.Line || k.Line < 1 || k.Line > len(ls) {
			continue
		}
		line := ls[k.Line-1]
		indent := line[:k.Column-1]
		if strings.Trim(indent, " ") != "" {
			return 0, "", false
		}
		return k.Line - 1, indent, true
	}
	return 0, "", false
}

// lineEnding is the file's line ending, as its first line ends; "\n" for
// a file of one line.
func lineEnding(ls []string) string {
	if len(ls) > 0 && hasEOL(ls[0]) {
		return ls[0][len(trimEOL(ls[0])):]
	}
	return "\n"
}

func containsAny(lines []int, start, end int) bool {
	for _, l := range lines {
		if l >= start && l < end {
			return true
		}
	}
	return false
}

// LockedV1 lists the workloads flux-rollback locked in content, recognised
// from the file alone by the lock message.
func LockedV1(content []byte) []Workload {
	docs, ok := v1Documents(content)
	if !ok {
		return nil
	}
	var out []Workload
	for _, d := range docs {
		if !d.workload {
			continue
		}
		if w, ok := d.lockedByRollback(); ok {
			out = append(out, w)
		}
	}
	return out
}

func (d v1Doc) lockedByRollback() (Workload, bool) {
	_, msg := mappingEntry(d.annotations, v1Prefix+v1LockedMsg)
	if msg == nil || msg.Kind != yaml.ScalarNode {
		return Workload{}, false
	}
	m := lockMsg.FindStringSubmatch(msg.Value)
	if m == nil {
		return Workload{}, false
	}
	w := d.Workload
	w.Release = m[1]
	if _, u := mappingEntry(d.annotations, v1Prefix+v1LockedUser); u != nil {
		w.User = u.Value
	}
	return w, true
}

// UnlockV1 removes exactly the lines LockV1 added for the workloads it
// locked for any of releases (all of them when releases is empty), byte for
// byte: the fluxcd.io/locked, locked_msg and locked_user entries, each
// where it stands. An entry a person spread over several lines is left.
func UnlockV1(content []byte, releases []string) ([]byte, []Workload) {
	docs, ok := v1Documents(content)
	if !ok {
		return content, nil
	}
	want := map[string]bool{}
	for _, r := range releases {
		want[shortSHA(r)] = true
	}
	ls := splitLines(content)
	drop := map[int]bool{}
	var unlocked []Workload
	for _, d := range docs {
		w, ok := d.lockedByRollback()
		if !d.workload || !ok || (len(releases) > 0 && !want[w.Release]) {
			continue
		}
		var lines []int
		for _, p := range []string{v1Locked, v1LockedMsg, v1LockedUser} {
			k, v := mappingEntry(d.annotations, v1Prefix+p)
			if k == nil {
				continue
			}
			if v.Line != k.Line || d.annotations.Style&yaml.FlowStyle != 0 || k.Line > len(ls) ||
				!strings.HasPrefix(strings.TrimLeft(ls[k.Line-1], " "), v1Prefix+p+":") {
				lines = nil
				break
			}
			lines = append(lines, k.Line-1)
		}
		if len(lines) == 0 {
			continue
		}
		for _, l := range lines {
			drop[l] = true
		}
		unlocked = append(unlocked, w)
	}
	if len(unlocked) == 0 {
		return content, nil
	}
	var kept []string
	for i, l := range ls {
		if !drop[i] {
			kept = append(kept, l)
		}
	}
	// When the file's last line went, the new last line ends the file the
	// same way: without a line ending.
	if last := ls[len(ls)-1]; drop[len(ls)-1] && !hasEOL(last) && len(kept) > 0 {
		kept[len(kept)-1] = trimEOL(kept[len(kept)-1])
	}
	out := []byte(strings.Join(kept, ""))
	if _, ok := v1Documents(out); !ok {
		return content, nil
	}
	return out, unlocked
}
