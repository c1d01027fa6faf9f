package server

import (
	"math"
	"sync"

	"github.com/gregjones/httpcache"
	"github.com/hashicorp/golang-lru/simplelru"
)

// lruHTTPCache is an httpcache.Cache bounded by the bytes it holds, evicting
// the least recently used responses first. httpcache's own memory cache grows
// without bound, which a long-running server cannot afford; golang-lru (already
// used by go-githubapp) keeps the order, and this type only counts bytes.
type lruHTTPCache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU
	size     int
	maxBytes int
}

var _ httpcache.Cache = (*lruHTTPCache)(nil)

func newLRUHTTPCache(maxBytes int) *lruHTTPCache {
	c := &lruHTTPCache{maxBytes: maxBytes}
	// The entry count is bounded by bytes instead, so the LRU's own bound is
	// set out of reach; NewLRU fails only for a non-positive bound.
	lru, err := simplelru.NewLRU(math.MaxInt32, func(_, value any) {
		c.size -= len(value.([]byte))
	})
	if err != nil {
		panic(err)
	}
	c.lru = lru
	return c
}

// Get returns the cached response for key.
func (c *lruHTTPCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lru.Get(key)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

// Set stores a response, evicting old ones until the cache fits its bound. A
// response larger than the whole cache is not stored.
func (c *lruHTTPCache) Set(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
	if len(value) > c.maxBytes {
		return
	}
	c.lru.Add(key, value)
	c.size += len(value)
	for c.size > c.maxBytes {
		c.lru.RemoveOldest()
	}
}

// Delete removes the response for key.
func (c *lruHTTPCache) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}
