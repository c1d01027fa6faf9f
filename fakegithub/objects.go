package fakegithub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/go-git/go-git/v5/utils/binary"
)

// Git objects are encoded and hashed by go-git's plumbing, so their SHAs are
// the ones git computes for the same content.

// TreeEntry is one entry of a tree object.
type TreeEntry struct {
	Name string // a single path component
	Mode string // "100644", "100755", "120000", "040000" or "160000"
	SHA  string
}

// Signature is a commit's author or committer line.
type Signature struct {
	Name  string
	Email string
	When  time.Time // its time zone is kept, as git keeps it
}

// CommitObject is the content of a commit object.
type CommitObject struct {
	Tree      string
	Parents   []string
	Author    Signature
	Committer Signature
	Message   string // stored verbatim: git commit-tree -m adds a trailing newline, the API does not
}

// errNotFound is returned by lookups of objects, refs and paths that do not
// exist; handlers turn it into 404.
var errNotFound = errors.New("not found")

// errMissingPath is a deletion of a path the tree does not have; GitHub
// answers 422 "GitRPC::BadObjectState".
var errMissingPath = errors.New("GitRPC::BadObjectState")

// errInvalid is wrapped by errors that handlers turn into 422.
var errInvalid = errors.New("invalid")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

// parseMode accepts the modes GitHub accepts in trees.
func parseMode(mode string) (filemode.FileMode, error) {
	switch mode {
	case "100644":
		return filemode.Regular, nil
	case "100755":
		return filemode.Executable, nil
	case "120000":
		return filemode.Symlink, nil
	case "040000", "40000":
		return filemode.Dir, nil
	case "160000":
		return filemode.Submodule, nil
	}
	return filemode.Empty, invalidf("invalid tree entry mode %q", mode)
}

// modeString renders a mode as GitHub does in the API ("040000" for trees).
func modeString(m filemode.FileMode) string {
	return fmt.Sprintf("%06o", uint32(m))
}

// objectType is the type GitHub names for an entry of that mode.
func objectType(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "tree"
	case filemode.Submodule:
		return "commit"
	}
	return "blob"
}

// parseHash accepts only full 40-hex SHA-1s.
func parseHash(s string) (plumbing.Hash, bool) {
	if len(s) != 40 || !plumbing.IsHash(s) {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(s), true
}

// objects is a repository's object database. Methods are called with g.mu held.
type objects struct {
	store *memory.Storage
}

func (o objects) put(t plumbing.ObjectType, content []byte) (plumbing.Hash, error) {
	obj := o.store.NewEncodedObject()
	obj.SetType(t)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write %s object: %w", t, err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write %s object: %w", t, err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write %s object: %w", t, err)
	}
	return o.store.SetEncodedObject(obj)
}

func (o objects) encode(e interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := o.store.NewEncodedObject()
	if err := e.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode object: %w", err)
	}
	return o.store.SetEncodedObject(obj)
}

// kind reports the type of a stored object, or errNotFound.
func (o objects) kind(h plumbing.Hash) (plumbing.ObjectType, error) {
	obj, err := o.store.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return plumbing.InvalidObject, fmt.Errorf("object %s: %w", h, errNotFound)
	}
	return obj.Type(), nil
}

func (o objects) blob(h plumbing.Hash) ([]byte, error) {
	obj, err := o.store.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, errNotFound)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func (o objects) blobSize(h plumbing.Hash) int {
	obj, err := o.store.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return 0
	}
	return int(obj.Size())
}

func (o objects) tree(h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return &object.Tree{}, nil
	}
	t, err := object.GetTree(o.store, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, errNotFound)
	}
	return t, nil
}

func (o objects) commit(h plumbing.Hash) (*object.Commit, error) {
	c, err := object.GetCommit(o.store, h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, errNotFound)
	}
	return c, nil
}

// writeTree validates and stores a tree. Entries may come in any order; git's
// order (directories sort as if their name ended in "/") is applied here.
func (o objects) writeTree(entries []object.TreeEntry) (plumbing.Hash, error) {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\x00") {
			return plumbing.ZeroHash, invalidf("invalid tree entry name %q", e.Name)
		}
		if seen[e.Name] {
			return plumbing.ZeroHash, invalidf("duplicate tree entry %q", e.Name)
		}
		seen[e.Name] = true
		if e.Mode == filemode.Submodule {
			continue // a gitlink names a commit of another repository
		}
		t, err := o.kind(e.Hash)
		if err != nil {
			return plumbing.ZeroHash, invalidf("tree entry %q: object %s does not exist", e.Name, e.Hash)
		}
		if want := objectType(e.Mode); t.String() != want {
			return plumbing.ZeroHash, invalidf("tree entry %q: %s is a %s, mode %s needs a %s", e.Name, e.Hash, t, modeString(e.Mode), want)
		}
	}
	sorted := append([]object.TreeEntry(nil), entries...)
	sort.Sort(object.TreeEntrySorter(sorted))
	return o.encode(&object.Tree{Entries: sorted})
}

// treeChange is one path to set or delete when building a tree.
type treeChange struct {
	path   string // slash-separated, relative to the root
	delete bool
	mode   filemode.FileMode
	hash   plumbing.Hash
}

// applyChanges returns the tree that results from applying changes to base
// (the zero hash is the empty tree), creating intermediate directories and
// dropping directories that end up empty, as GitHub's create-tree does.
// Deleting a path that does not exist is an error, as GitHub documents. A
// change below a path that is a file in base replaces that file with a
// directory.
func (o objects) applyChanges(base plumbing.Hash, changes []treeChange) (plumbing.Hash, error) {
	return o.applyChangesAt(base, changes, "")
}

// applyChangesAt applies changes to the tree base found at prefix.
func (o objects) applyChangesAt(base plumbing.Hash, changes []treeChange, prefix string) (plumbing.Hash, error) {
	t, err := o.tree(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	entries := map[string]object.TreeEntry{}
	for _, e := range t.Entries {
		entries[e.Name] = e
	}
	nested := map[string][]treeChange{}
	var dirs []string
	for _, c := range changes {
		p := strings.Trim(c.path, "/")
		if p == "" {
			return plumbing.ZeroHash, invalidf("tree entry with an empty path")
		}
		first, rest, isNested := strings.Cut(p, "/")
		if !isNested {
			if c.delete {
				if _, ok := entries[first]; !ok {
					return plumbing.ZeroHash, fmt.Errorf("%w: cannot delete %s: no such path", errMissingPath, path.Join(prefix, first))
				}
				delete(entries, first)
			} else {
				entries[first] = object.TreeEntry{Name: first, Mode: c.mode, Hash: c.hash}
			}
			continue
		}
		if _, ok := nested[first]; !ok {
			dirs = append(dirs, first)
		}
		c.path = rest
		nested[first] = append(nested[first], c)
	}
	for _, dir := range dirs {
		sub := plumbing.ZeroHash
		if e, ok := entries[dir]; ok && e.Mode == filemode.Dir {
			sub = e.Hash
		}
		h, err := o.applyChangesAt(sub, nested[dir], path.Join(prefix, dir))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h.IsZero() {
			if e, ok := entries[dir]; ok && e.Mode == filemode.Dir {
				delete(entries, dir)
			}
			continue
		}
		entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	list := make([]object.TreeEntry, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	return o.writeTree(list)
}

// emptyTree stores and returns git's empty tree (4b825dc...).
func (o objects) emptyTree() (plumbing.Hash, error) {
	return o.encode(&object.Tree{})
}

// lookup finds the entry at path p in tree root. p == "" is the root itself.
func (o objects) lookup(root plumbing.Hash, p string) (object.TreeEntry, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return object.TreeEntry{Name: "", Mode: filemode.Dir, Hash: root}, nil
	}
	cur := root
	parts := strings.Split(p, "/")
	for i, part := range parts {
		t, err := o.tree(cur)
		if err != nil {
			return object.TreeEntry{}, err
		}
		var found *object.TreeEntry
		for j := range t.Entries {
			if t.Entries[j].Name == part {
				found = &t.Entries[j]
				break
			}
		}
		if found == nil {
			return object.TreeEntry{}, fmt.Errorf("path %s: %w", p, errNotFound)
		}
		if i == len(parts)-1 {
			return *found, nil
		}
		if found.Mode != filemode.Dir {
			return object.TreeEntry{}, fmt.Errorf("path %s: %w", p, errNotFound)
		}
		cur = found.Hash
	}
	return object.TreeEntry{}, fmt.Errorf("path %s: %w", p, errNotFound)
}

// flatEntry is a non-directory entry of a tree walked recursively.
type flatEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// flatten maps every non-directory path under root to its entry.
func (o objects) flatten(root plumbing.Hash) (map[string]flatEntry, error) {
	out := map[string]flatEntry{}
	var walk func(h plumbing.Hash, prefix string) error
	walk = func(h plumbing.Hash, prefix string) error {
		t, err := o.tree(h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			p := path.Join(prefix, e.Name)
			if e.Mode == filemode.Dir {
				if err := walk(e.Hash, p); err != nil {
					return err
				}
				continue
			}
			out[p] = flatEntry{mode: e.Mode, hash: e.Hash}
		}
		return nil
	}
	return out, walk(root, "")
}

// walkTree lists every entry under root (directories included), in git's
// order, for recursive tree listings.
func (o objects) walkTree(root plumbing.Hash, recursive bool, visit func(p string, e object.TreeEntry)) error {
	var walk func(h plumbing.Hash, prefix string) error
	walk = func(h plumbing.Hash, prefix string) error {
		t, err := o.tree(h)
		if err != nil {
			return err
		}
		for _, e := range t.Entries {
			p := path.Join(prefix, e.Name)
			visit(p, e)
			if recursive && e.Mode == filemode.Dir {
				if err := walk(e.Hash, p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(root, "")
}

// signature converts to go-git's form, keeping the time zone.
func (s Signature) toGit() object.Signature {
	return object.Signature{Name: s.Name, Email: s.Email, When: s.When}
}

func (o objects) writeCommit(c CommitObject) (plumbing.Hash, error) {
	tree, ok := parseHash(c.Tree)
	if !ok {
		return plumbing.ZeroHash, invalidf("tree %q is not a SHA", c.Tree)
	}
	if t, err := o.kind(tree); err != nil || t != plumbing.TreeObject {
		return plumbing.ZeroHash, invalidf("Tree SHA does not exist")
	}
	parents := make([]plumbing.Hash, 0, len(c.Parents))
	for _, p := range c.Parents {
		h, ok := parseHash(p)
		if !ok {
			return plumbing.ZeroHash, invalidf("Parent SHA does not exist or is not a commit object")
		}
		if t, err := o.kind(h); err != nil || t != plumbing.CommitObject {
			return plumbing.ZeroHash, invalidf("Parent SHA does not exist or is not a commit object")
		}
		parents = append(parents, h)
	}
	return o.encode(&object.Commit{
		Author:       c.Author.toGit(),
		Committer:    c.Committer.toGit(),
		Message:      c.Message,
		TreeHash:     tree,
		ParentHashes: parents,
	})
}

// isAncestor reports whether commit a is reachable from commit b (a == b
// counts).
func (o objects) isAncestor(a, b plumbing.Hash) bool {
	found := false
	_ = o.walkCommits([]plumbing.Hash{b}, nil, func(c *object.Commit) bool {
		if c.Hash == a {
			found = true
			return false
		}
		return true
	})
	return found
}

// walkCommits visits the commits reachable from heads and not from hidden,
// newest committer date first (ties broken by discovery order), like
// `git log`. visit returns false to stop.
func (o objects) walkCommits(heads, hidden []plumbing.Hash, visit func(*object.Commit) bool) error {
	excluded := map[plumbing.Hash]bool{}
	if len(hidden) > 0 {
		stack := append([]plumbing.Hash(nil), hidden...)
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if excluded[h] {
				continue
			}
			excluded[h] = true
			c, err := o.commit(h)
			if err != nil {
				continue
			}
			stack = append(stack, c.ParentHashes...)
		}
	}
	seen := map[plumbing.Hash]bool{}
	var queue []*object.Commit
	push := func(h plumbing.Hash) error {
		if seen[h] || excluded[h] {
			return nil
		}
		seen[h] = true
		c, err := o.commit(h)
		if err != nil {
			return err
		}
		queue = append(queue, c)
		return nil
	}
	for _, h := range heads {
		if err := push(h); err != nil {
			return err
		}
	}
	for len(queue) > 0 {
		best := 0
		for i, c := range queue {
			if c.Committer.When.After(queue[best].Committer.When) {
				best = i
			}
		}
		c := queue[best]
		queue = append(queue[:best], queue[best+1:]...)
		if !visit(c) {
			return nil
		}
		for _, p := range c.ParentHashes {
			if err := push(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeBase returns the best common ancestor of a and b (the newest one
// reachable from both), or the zero hash when they share no history.
func (o objects) mergeBase(a, b plumbing.Hash) plumbing.Hash {
	fromA := map[plumbing.Hash]bool{}
	_ = o.walkCommits([]plumbing.Hash{a}, nil, func(c *object.Commit) bool {
		fromA[c.Hash] = true
		return true
	})
	base := plumbing.ZeroHash
	_ = o.walkCommits([]plumbing.Hash{b}, nil, func(c *object.Commit) bool {
		if fromA[c.Hash] {
			base = c.Hash
			return false
		}
		return true
	})
	return base
}

// isBinary applies git's rule (a NUL byte near the start), through go-git.
func isBinary(content []byte) bool {
	bin, err := binary.IsBinary(bytes.NewReader(content))
	return err == nil && bin
}
