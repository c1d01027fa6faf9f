package server

import (
	"io"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// junk is an endless body that costs its sender no memory.
type junk struct{ left int64 }

func (j *junk) Read(p []byte) (int, error) {
	if j.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), j.left)], junkBytes)
	j.left -= int64(n)
	return n, nil
}

var junkBytes = []byte(strings.Repeat("x", 64<<10))

// heapBytes is the memory held by heap objects, live or not yet collected.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Junk bodies sent in parallel with a signature header: the bytes read
// before the signature is checked stay within max_unauthenticated_mb, so the
// heap stays far below what the bodies add up to.
func TestJunkBodiesInParallelStayWithinTheBudget(t *testing.T) {
	const (
		senders  = 24
		bodySize = 16 << 20 // 384 MiB in all
		budgetMB = 32
	)
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.URL)
	cfg.Server.MaxUnauthenticatedMB = budgetMB
	srv := startServer(t, cfg)

	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make([]int, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, srv.URL+WebhookRoute, &junk{left: bodySize})
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = bodySize
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	for i, c := range codes {
		if c != http.StatusBadRequest {
			t.Errorf("junk body %d answered %d, want 400", i, c)
		}
	}
	grown := int64(peak.Load()) - int64(base)
	// A body is garbage once refused, and the collector may let garbage
	// reach about as much again as what is live: four budgets is ample;
	// without the bound the bodies would add up to twelve.
	if limit := int64(4*budgetMB) << 20; grown > limit {
		t.Errorf("the heap grew by %d MiB during the junk burst, over %d MiB", grown>>20, limit>>20)
	}
	t.Logf("heap grew by %d MiB for %d MiB of junk", grown>>20, senders*bodySize>>20)
	if len(gh.calls()) != 0 {
		t.Errorf("GitHub was called: %v", gh.calls())
	}
}

// A body that is not JSON, correctly signed, is bad input: 400, not 500.
func TestMalformedPayloadWithAValidSignatureIs400(t *testing.T) {
	gh := newFakeGitHub(t)
	srv := startServer(t, testConfig(t, gh.URL))
	for name, body := range map[string]string{
		"not JSON":        `{"ref": "refs/heads/main",`,
		"wrong JSON type": `{"installation": {"id": "one hundred"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if code, _ := do(t, webhookRequest(t, srv.URL, "push", "d-"+name, []byte(body))); code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
		})
	}
}
