package rollback

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/fluxrollback/flux-rollback/hold"
	"github.com/fluxrollback/flux-rollback/internal/panics"
	"github.com/fluxrollback/flux-rollback/release"
	"github.com/fluxrollback/flux-rollback/revert"
)

// HoldLabel marks the rollback pull requests that carry a hold, so that
// the holds on a branch are found from its merged pull requests without
// reading the whole repository. Adding a label that does not exist creates
// it.
const HoldLabel = "flux-rollback:hold"

// Hold says how a rollback pull request keeps Flux from releasing the
// images again.
type Hold struct {
	// Off is true when the repository turned holds off (hold: false).
	Off bool
	// Held are the Flux v2 image policy markers the hold commit held.
	Held []HeldReference
	// Locked are the Flux v1 workloads the hold commit locked.
	Locked []LockedWorkload
	// Manual are the Flux v1 workloads a lock in the file cannot reach (an
	// image in a kustomization's images:, a .flux.yaml patch file): they are
	// locked with fluxctl.
	Manual []ManualLock
	// Unheld are the Flux v2 references set back without a hold: with holds
	// off, or on lines whose marker the hold could not recognise.
	Unheld []release.ImageChange
	// Automations are the Flux v2 ImageUpdateAutomations that released the
	// images, "namespace/name", where the release's message names them.
	Automations []string
	// Release is the short SHA of the release the hold rolls back, and
	// Requester who asked: the held markers and the pull request record them.
	Release, Requester string
}

// HeldReference is one held marker.
type HeldReference struct {
	File  string
	Image string // "" when the release did not show the image's name
	hold.Held
}

// LockedWorkload is a Flux v1 workload the hold commit locked.
type LockedWorkload struct {
	File string
	hold.Workload
}

// ManualLock is a Flux v1 workload to lock by hand. Namespace, Kind and Name
// are "" where the repository does not show them.
type ManualLock struct {
	File, Image              string
	Namespace, Kind, Name    string
	InKustomization, InPatch bool
}

// Workload is the workload argument of fluxctl lock, with placeholders where
// a part is unknown: "apps:deployment/web".
func (m ManualLock) Workload() string {
	or := func(s, placeholder string) string {
		if s == "" {
			return placeholder
		}
		return s
	}
	return or(m.Namespace, "<namespace>") + ":" + strings.ToLower(or(m.Kind, "<kind>")) + "/" + or(m.Name, "<name>")
}

// Holding is true when the hold commit has something to change.
func (h *Hold) Holding() bool { return h != nil && (len(h.Held) > 0 || len(h.Locked) > 0) }

// Images names the held images for a title: "api-js, web".
func (h *Hold) Images() string {
	var names []string
	add := func(s string) {
		if !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	for _, r := range h.Held {
		if r.Image != "" {
			add(ShortImage(r.Image))
		} else {
			add(r.Policy)
		}
	}
	for _, w := range h.Locked {
		add(w.Name)
	}
	return strings.Join(names, ", ")
}

// holdInput is one file a rollback changes: its content on the head (nil
// when the rollback adds it) and after the rollback.
type holdInput struct {
	path, mode    string
	before, after []byte
}

// heldFile is one file of the hold commit.
type heldFile struct {
	path, mode string
	content    []byte
}

// holdPlan is the hold commit of a rollback: the files it changes, and
// what the pull request says about it.
type holdPlan struct {
	files []heldFile
	hold  *Hold
}

// planHold holds, in each file the rollback changes, the Flux v2 markers and
// locks the Flux v1 automated workloads of the lines the rollback sets
// back (the lines of the file after the rollback that differ from the
// head), and nothing else. message is the message of the release undone;
// release is the short SHA the hold records.
func planHold(inputs []holdInput, message string, targets []release.ImageChange, release, requester string) *holdPlan {
	plan := &holdPlan{hold: &Hold{Automations: automations(message), Release: release, Requester: requester}}
	for _, in := range inputs {
		lines := changedLines(in.before, in.after)
		if len(lines) == 0 {
			continue
		}
		content, held := hold.Hold(in.after, lines, release)
		content, locked := hold.LockV1(content, lines, release, requester)
		for _, h := range held {
			plan.hold.Held = append(plan.hold.Held, HeldReference{File: in.path, Image: imageOf(targets, in.path, h.Policy), Held: h})
		}
		for _, w := range locked {
			plan.hold.Locked = append(plan.hold.Locked, LockedWorkload{File: in.path, Workload: w})
		}
		if !bytes.Equal(content, in.after) {
			plan.files = append(plan.files, heldFile{path: in.path, mode: in.mode, content: content})
		}
		if len(locked) == 0 && generationOf(targetsIn(targets, in.path)) == 1 {
			plan.hold.Manual = append(plan.hold.Manual, manualLocks(in.path, in.after, lines, targetsIn(targets, in.path))...)
		}
	}
	for _, t := range targets {
		if t.Setter == "" {
			continue
		}
		heldHere := slices.ContainsFunc(plan.hold.Held, func(h HeldReference) bool { return h.File == t.File && h.Policy == t.Policy() })
		if !heldHere {
			plan.hold.Unheld = append(plan.hold.Unheld, t)
		}
	}
	return plan
}

// unheldPlan is what a rollback says when holds are off: the references it
// sets back, and how to hold them by hand.
func unheldPlan(inputs []holdInput, message string, targets []release.ImageChange) *holdPlan {
	h := &Hold{Off: true, Automations: automations(message)}
	for _, t := range targets {
		if t.Setter != "" {
			h.Unheld = append(h.Unheld, t)
		}
	}
	for _, in := range inputs {
		if ts := targetsIn(targets, in.path); len(ts) > 0 && generationOf(ts) == 1 {
			h.Manual = append(h.Manual, manualLocks(in.path, in.after, changedLines(in.before, in.after), ts)...)
		}
	}
	return &holdPlan{hold: h}
}

// targetsIn keeps the references of one file.
func targetsIn(targets []release.ImageChange, file string) []release.ImageChange {
	var out []release.ImageChange
	for _, t := range targets {
		if t.File == file {
			out = append(out, t)
		}
	}
	return out
}

// imageOf names the image a policy's marker sets in file, from the
// references the rollback sets back.
func imageOf(targets []release.ImageChange, file, policy string) string {
	for _, t := range targets {
		if t.File == file && t.Policy() == policy && t.Image != "" {
			return t.Image
		}
	}
	for _, t := range targets {
		if t.Policy() == policy && t.Image != "" {
			return t.Image
		}
	}
	return ""
}

// automations reads the ImageUpdateAutomations named in a Flux v2
// release's message ("Automation name: flux-system/web", in the
// controller's default template).
func automations(message string) []string {
	var out []string
	for _, line := range strings.Split(message, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "Automation name:"); ok {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// memoReader remembers the directories and blobs read through it, so that
// the hold reads again nothing the revert engine read already.
type memoReader struct {
	revert.Reader
	mu    sync.Mutex
	dirs  map[string]map[string]revert.Entry
	blobs map[string][]byte
}

func newMemoReader(r revert.Reader) *memoReader {
	return &memoReader{Reader: r, dirs: map[string]map[string]revert.Entry{}, blobs: map[string][]byte{}}
}

// forRevert is the reader to hand the revert engine: it keeps the
// underlying reader's rename lookups, which the engine asks for by type.
func (m *memoReader) forRevert() revert.Reader {
	if renames, ok := m.Reader.(revert.Renames); ok {
		return struct {
			*memoReader
			revert.Renames
		}{m, renames}
	}
	return m
}

func (m *memoReader) Dir(ctx context.Context, commit, dir string) (map[string]revert.Entry, error) {
	return remember(&m.mu, m.dirs, commit+":"+dir, func() (map[string]revert.Entry, error) { return m.Reader.Dir(ctx, commit, dir) })
}

func (m *memoReader) Blob(ctx context.Context, sha string) ([]byte, error) {
	return remember(&m.mu, m.blobs, sha, func() ([]byte, error) { return m.Reader.Blob(ctx, sha) })
}

// remember answers key from cache, or reads it and keeps what was read.
// Two concurrent first reads of one key both read; both get the same answer.
func remember[T any](mu *sync.Mutex, cache map[string]T, key string, read func() (T, error)) (T, error) {
	mu.Lock()
	v, ok := cache[key]
	mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read()
	if err == nil {
		mu.Lock()
		cache[key] = v
		mu.Unlock()
	}
	return v, err
}

// readRegularFile reads file at commit through its directory's listing and
// its blob. The mode is "" (and the content nil) where the commit has no
// regular file there.
func readRegularFile(ctx context.Context, r revert.Reader, commit, file string) ([]byte, string, error) {
	dir, name := path.Split(file)
	entries, err := r.Dir(ctx, commit, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return nil, "", err
	}
	e, ok := entries[name]
	if !ok || (e.Mode != "100644" && e.Mode != "100755") {
		return nil, "", nil
	}
	b, err := r.Blob(ctx, e.SHA)
	if err != nil {
		return nil, "", err
	}
	return b, e.Mode, nil
}

// holdInputs reads, for each YAML file a revert writes, its content on
// the head and after the revert: the blobs the revert engine read are not
// read again, and the others are read together.
func holdInputs(ctx context.Context, r *memoReader, head string, changes []revert.Change, concurrency int) ([]holdInput, error) {
	var inputs []holdInput
	for _, c := range changes {
		if !c.Delete && release.MightHoldImages(c.Path) && (c.Mode == "100644" || c.Mode == "100755") {
			inputs = append(inputs, holdInput{path: c.Path, mode: c.Mode, after: c.Content})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := range inputs {
		in := &inputs[i]
		c := changes[slices.IndexFunc(changes, func(c revert.Change) bool { return c.Path == in.path && !c.Delete })]
		if in.after == nil {
			g.Go(func() (err error) {
				defer panics.Recover(gctx, "read "+in.path+" after the revert", &err)
				b, err := r.Blob(gctx, c.SHA)
				if err != nil {
					return fmt.Errorf("read %s after the revert: %w", in.path, err)
				}
				in.after = b
				return nil
			})
		}
		g.Go(func() (err error) {
			defer panics.Recover(gctx, "read "+in.path+" on the head", &err)
			// Where the head has no such file, the revert adds it.
			in.before, _, err = readRegularFile(gctx, r, head, in.path)
			if err != nil {
				return fmt.Errorf("read %s on the head: %w", in.path, err)
			}
			return nil
		})
	}
	return inputs, g.Wait()
}

// holdConcurrency bounds the blob reads of a hold.
const holdConcurrency = 4

// withHold returns the changes of the hold commit: the rollback's changes,
// with the held files' contents in place of theirs.
func (p *holdPlan) withHold(changes []revert.Change) []revert.Change {
	out := slices.Clone(changes)
	for _, f := range p.files {
		i := slices.IndexFunc(out, func(c revert.Change) bool { return c.Path == f.path && !c.Delete })
		if i < 0 {
			out = append(out, revert.Change{Path: f.path, Mode: f.mode, Content: f.content})
			continue
		}
		out[i] = revert.Change{Path: f.path, Mode: f.mode, Content: f.content}
	}
	return out
}

// holdFor plans the hold commit of a rollback that writes changes on head:
// nil for a commit that is not a release; with holds off, only what the
// pull request says about holding by hand.
func (s *Service) holdFor(ctx context.Context, req Request, memo *memoReader, head *Head, changes []revert.Change,
	commit *Commit, targets []release.ImageChange, generation int) (*holdPlan, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	if !req.Config.HoldsAutomation() {
		var inputs []holdInput
		if generation == 1 {
			var err error
			if inputs, err = holdInputs(ctx, memo, head.SHA, changes, holdConcurrency); err != nil {
				return nil, err
			}
		}
		plan := unheldPlan(inputs, commit.Message, targets)
		return plan, fillKustomizationWorkloads(ctx, memo, head.SHA, inputs, plan.hold)
	}
	inputs, err := holdInputs(ctx, memo, head.SHA, changes, holdConcurrency)
	if err != nil {
		return nil, err
	}
	plan := planHold(inputs, commit.Message, targets, commit.SHA[:7], req.Requester)
	return plan, fillKustomizationWorkloads(ctx, memo, head.SHA, inputs, plan.hold)
}

// fillKustomizationWorkloads names the workloads behind the images of a
// kustomization's images: list that a lock cannot reach: the documents of
// its resources beside it, on the head, whose containers run the image (the
// kustomization's namespace, when it sets one, is theirs). Where none is
// found, the placeholders stay.
func fillKustomizationWorkloads(ctx context.Context, r revert.Reader, head string, inputs []holdInput, h *Hold) error {
	var out []ManualLock
	reads := 0
	for _, m := range h.Manual {
		if !m.InKustomization || m.Image == "" {
			out = append(out, m)
			continue
		}
		i := slices.IndexFunc(inputs, func(in holdInput) bool { return in.path == m.File })
		if i < 0 {
			out = append(out, m)
			continue
		}
		dir := strings.TrimSuffix(path.Dir(m.File), ".")
		dir = strings.TrimSuffix(dir, "/")
		entries, err := r.Dir(ctx, head, dir)
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		var found []ManualLock
		for _, res := range kustomizationResources(inputs[i].after) {
			e, ok := entries[res]
			if !ok || (e.Mode != "100644" && e.Mode != "100755") || reads >= maxResourceReads {
				continue
			}
			reads++
			content, err := r.Blob(ctx, e.SHA)
			if err != nil {
				return fmt.Errorf("read %s: %w", path.Join(dir, res), err)
			}
			for _, w := range workloadsRunning(path.Join(dir, res), content, m.Image) {
				w.File, w.InKustomization = m.File, true
				if m.Namespace != "" {
					w.Namespace = m.Namespace
				}
				found = append(found, w)
			}
		}
		if len(found) == 0 {
			found = []ManualLock{m}
		}
		out = append(out, found...)
	}
	h.Manual = out
	return nil
}
