package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func freeAddress(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
}

// TestMetricsAddress: with server.metrics_address, /metrics is served on
// that listener only, and the webhook listener answers 404 for it.
func TestMetricsAddress(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:1")
	_, port := freeAddress(t)
	metricsAddr, _ := freeAddress(t)
	cfg.Server.Address = "127.0.0.1"
	cfg.Server.Port = port
	cfg.Server.MetricsAddress = metricsAddr
	s, err := New(cfg, WithVersion(testVersion), WithLogger((&logSink{}).logger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not serving")
	}
	get := func(url string) int {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	main := fmt.Sprintf("http://127.0.0.1:%d", port)
	if code := get(main + HealthRoute); code != http.StatusOK {
		t.Errorf("health %d", code)
	}
	if code := get(main + MetricsRoute); code != http.StatusNotFound {
		t.Errorf("/metrics on the webhook listener: %d, want 404", code)
	}
	families := scrape(t, "http://"+metricsAddr)
	if families["flux_rollback_build_info"] == nil {
		t.Error("no flux_rollback_build_info on the metrics listener")
	}
	if code := get("http://" + metricsAddr + WebhookRoute); code == http.StatusOK || code == http.StatusBadRequest {
		t.Errorf("the metrics listener serves the webhook route: %d", code)
	}
}

func TestMetricsAddressValidation(t *testing.T) {
	for addr, want := range map[string]string{
		"9090":           `"9090" is not host:port`,
		"127.0.0.1:0":    `is not host:port`,
		"0.0.0.0:8080":   "is the webhook listener's port",
		"127.0.0.1:9090": "",
		":9090":          "",
	} {
		c := testConfig(t, "http://127.0.0.1:1")
		c.Server.MetricsAddress = addr
		var got []string
		for _, p := range c.validate() {
			if p.Key == "server.metrics_address" {
				got = append(got, p.Message)
			}
		}
		if want == "" && len(got) > 0 || want != "" && (len(got) != 1 || !strings.Contains(got[0], want)) {
			t.Errorf("%q: %v, want %q", addr, got, want)
		}
	}
}
