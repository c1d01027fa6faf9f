package server

import (
	"bytes"
	"testing"
)

func TestLRUHTTPCacheBoundsBytes(t *testing.T) {
	c := newLRUHTTPCache(10)
	c.Set("a", []byte("aaaa"))
	c.Set("b", []byte("bbbb"))
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.Set("c", []byte("cccc")) // 12 bytes: b, least recently used, goes
	if _, ok := c.Get("b"); ok {
		t.Error("b kept past the bound")
	}
	for _, k := range []string{"a", "c"} {
		if v, ok := c.Get(k); !ok || !bytes.Equal(v, bytes.Repeat([]byte(k), 4)) {
			t.Errorf("%s = %q, %v", k, v, ok)
		}
	}

	// Replacing an entry counts only its new size.
	c.Set("a", []byte("A"))
	c.Set("d", []byte("dddd"))
	if c.size != 9 {
		t.Errorf("size %d, want 9", c.size)
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted although the cache fits", k)
		}
	}

	// A response larger than the cache is not stored, and replaces nothing.
	c.Set("c", bytes.Repeat([]byte("x"), 11))
	if _, ok := c.Get("c"); ok {
		t.Error("an oversize response was stored")
	}
	c.Delete("d")
	if _, ok := c.Get("d"); ok || c.size != 1 {
		t.Errorf("after Delete: present %v, size %d", ok, c.size)
	}
}
