package gitoracle

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// TreeEdit is one change to a tree: delete Path, or set it to an existing
// blob (SHA) or to new content (Content).
type TreeEdit struct {
	Path    string
	Delete  bool
	Mode    string
	SHA     string
	Content []byte
}

// ApplyTree applies edits in order to tree, writes the resulting tree into
// the repository and returns its id, as the Git Data API's create-tree does
// with base_tree. Directories left empty disappear. An edit that needs a
// file where there is a directory, or a directory where there is a file,
// fails unless earlier edits removed what was in the way; deleting a
// directory fails too.
//
// Trees are built in process with go-git rather than with git update-index,
// which silently drops index entries that clash with an added path.
func (r *Repo) ApplyTree(tree string, edits []TreeEdit) (string, error) {
	r.workMu.Lock()
	defer r.workMu.Unlock()
	r.openStore()
	root := &treeNode{mode: "040000", sha: tree}
	for _, e := range edits {
		if err := r.applyEdit(root, e); err != nil {
			return "", fmt.Errorf("apply edit of %s to tree %s: %w", e.Path, tree, err)
		}
	}
	sha, err := r.writeTree(root)
	if err != nil {
		return "", fmt.Errorf("write tree: %w", err)
	}
	if sha == "" {
		// Everything was deleted: the empty tree.
		return r.writeObject(plumbing.TreeObject, nil)
	}
	return sha, nil
}

// treeNode is a tree entry; a directory's children are loaded when an
// edit reaches into it.
type treeNode struct {
	mode     string
	sha      string
	children map[string]*treeNode // nil until loaded
}

func (n *treeNode) isDir() bool { return n.mode == "040000" }

func (r *Repo) load(n *treeNode) error {
	if n.children != nil {
		return nil
	}
	n.children = make(map[string]*treeNode)
	if n.sha == "" {
		return nil
	}
	typ, data, err := r.catFile(n.sha)
	if err != nil {
		return err
	}
	if typ != "tree" {
		return fmt.Errorf("object %s is a %s, not a tree", n.sha, typ)
	}
	entries, err := parseTree(n.sha, data)
	if err != nil {
		return err
	}
	for name, e := range entries {
		n.children[name] = &treeNode{mode: e.Mode, sha: e.SHA}
	}
	return nil
}

func (r *Repo) applyEdit(root *treeNode, e TreeEdit) error {
	parts := strings.Split(e.Path, "/")
	dir := root
	for _, name := range parts[:len(parts)-1] {
		if err := r.load(dir); err != nil {
			return err
		}
		child, ok := dir.children[name]
		switch {
		case !ok && e.Delete:
			return nil // nothing to delete
		case !ok:
			child = &treeNode{mode: "040000", children: map[string]*treeNode{}}
			dir.children[name] = child
		case !child.isDir():
			return fmt.Errorf("%s is a file", name)
		}
		dir = child
	}
	if err := r.load(dir); err != nil {
		return err
	}
	name := parts[len(parts)-1]
	existing, ok := dir.children[name]
	if ok && existing.isDir() {
		if err := r.load(existing); err != nil {
			return err
		}
		if e.Delete || len(existing.children) > 0 {
			sha, err := r.writeTree(existing)
			if err != nil {
				return err
			}
			if sha != "" {
				return fmt.Errorf("%s is a directory", e.Path)
			}
		}
	}
	if e.Delete {
		delete(dir.children, name)
		return nil
	}
	sha := e.SHA
	if e.Content != nil {
		var err error
		if sha, err = r.writeObject(plumbing.BlobObject, e.Content); err != nil {
			return err
		}
	}
	dir.children[name] = &treeNode{mode: e.Mode, sha: sha}
	return nil
}

// writeTree writes the loaded parts of a tree and returns its id, or ""
// when it has no entries (git does not record empty directories).
func (r *Repo) writeTree(n *treeNode) (string, error) {
	if n.children == nil {
		return n.sha, nil
	}
	var t object.Tree
	for name, c := range n.children {
		sha := c.sha
		if c.isDir() {
			var err error
			if sha, err = r.writeTree(c); err != nil {
				return "", err
			}
			if sha == "" {
				continue
			}
		}
		mode, err := filemode.New(c.mode)
		if err != nil {
			return "", fmt.Errorf("entry %s: %w", name, err)
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: mode, Hash: plumbing.NewHash(sha)})
	}
	if len(t.Entries) == 0 {
		return "", nil
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	obj := r.store.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return "", err
	}
	h, err := r.store.SetEncodedObject(obj)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func (r *Repo) writeObject(typ plumbing.ObjectType, data []byte) (string, error) {
	obj := r.store.NewEncodedObject()
	obj.SetType(typ)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	h, err := r.store.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("store %s: %w", typ, err)
	}
	return h.String(), nil
}

// WriteBlob stores content as a blob and returns its id.
func (r *Repo) WriteBlob(content []byte) (string, error) {
	r.workMu.Lock()
	defer r.workMu.Unlock()
	r.openStore()
	return r.writeObject(plumbing.BlobObject, content)
}

func (r *Repo) openStore() {
	if r.store == nil {
		r.store = filesystem.NewStorage(osfs.New(filepath.Join(r.Dir, ".git")), cache.NewObjectLRUDefault())
	}
}
