package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkWebhookAck is the App's own cost of acknowledging a push: the
// body read within the byte budget, both signature checks, the payload's
// JSON and the queue, on both cores (b.RunParallel), without the network or
// a GitHub to serve. Its inverse is the deliveries per second the App can
// acknowledge when nothing else competes for the CPU.
func BenchmarkWebhookAck(b *testing.B) {
	gh := newFakeGitHub(&testing.T{})
	cfg := testConfig(&testing.T{}, gh.URL)
	cfg.Rollback.QueueSize = 1 << 20
	cfg.Rollback.QueueWorkers = 1
	handled := func(context.Context, []byte) error { return nil }
	s, err := New(cfg, WithLogger(zerolog.Nop()), withHandler(&funcHandler{event: "push", fn: handled}))
	if err != nil {
		b.Fatal(err)
	}
	body := fixture(&testing.T{}, "push.json")
	sig := sign(testSecret, body)
	h := s.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, WebhookRoute, bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "d")
			req.Header.Set("X-Hub-Signature-256", sig)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}
