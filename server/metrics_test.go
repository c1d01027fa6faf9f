package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"
)

func TestGatherFamiliesConvertsEveryKind(t *testing.T) {
	r := metrics.NewRegistry()
	metrics.GetOrRegisterCounter("github.requests.2xx", r).Inc(3)
	metrics.GetOrRegisterCounter("github.handler.error[event:push]", r).Inc(1)
	metrics.GetOrRegisterCounter("github.handler.error[event:check_run]", r).Inc(2)
	metrics.GetOrRegisterGauge("github.rate.remaining[installation:42]", r).Update(17)
	metrics.GetOrRegisterGaugeFloat64("load-average", r).Update(0.5)
	meter := metrics.GetOrRegisterMeter("deliveries", r)
	meter.Mark(4)
	defer meter.Stop()
	timer := metrics.GetOrRegisterTimer("event.duration[event:push]", r)
	timer.Update(2 * time.Second)
	timer.Update(4 * time.Second)
	histogram := metrics.GetOrRegisterHistogram("payload.size", r, metrics.NewUniformSample(10))
	histogram.Update(10)
	histogram.Update(30)

	// Encode and parse back, as Prometheus would.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, MetricsRoute, nil)
	req.Header.Set("Accept", "text/plain")
	metricsHandler(r, zerolog.Nop()).ServeHTTP(rec, req)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Body.String())
	}

	for name, tc := range map[string]struct {
		typ    dto.MetricType
		labels map[string]string
		value  func(*dto.Metric) float64
		want   float64
	}{
		"flux_rollback_github_requests_2xx_total":    {dto.MetricType_COUNTER, nil, counterValue, 3},
		"flux_rollback_github_handler_error_total":   {dto.MetricType_COUNTER, map[string]string{"event": "check_run"}, counterValue, 2},
		"flux_rollback_github_rate_remaining":        {dto.MetricType_GAUGE, map[string]string{"installation": "42"}, gaugeValue, 17},
		"flux_rollback_load_average":                 {dto.MetricType_GAUGE, nil, gaugeValue, 0.5},
		"flux_rollback_deliveries_total":             {dto.MetricType_COUNTER, nil, counterValue, 4},
		"flux_rollback_event_duration_seconds":       {dto.MetricType_SUMMARY, map[string]string{"event": "push"}, summarySum, 6},
		"flux_rollback_payload_size":                 {dto.MetricType_SUMMARY, nil, summarySum, 40},
		"flux_rollback_event_duration_seconds count": {dto.MetricType_SUMMARY, map[string]string{"event": "push"}, summaryCount, 2},
	} {
		family, _, _ := bytes.Cut([]byte(name), []byte(" "))
		mf := families[string(family)]
		if mf == nil {
			t.Errorf("%s missing from\n%s", family, rec.Body.String())
			continue
		}
		if mf.GetType() != tc.typ {
			t.Errorf("%s is %v, want %v", name, mf.GetType(), tc.typ)
		}
		m := sample(t, families, string(family), tc.labels)
		if got := tc.value(m); got != tc.want {
			t.Errorf("%s = %v, want %v", name, got, tc.want)
		}
	}
	if n := len(families["flux_rollback_github_handler_error_total"].GetMetric()); n != 2 {
		t.Errorf("handler errors: %d series, want one per event", n)
	}
	if q := sample(t, families, "flux_rollback_event_duration_seconds", nil).GetSummary().GetQuantile(); len(q) != 3 || q[0].GetValue() < 2 || q[0].GetValue() > 4 {
		t.Errorf("timer quantiles %v, want seconds between 2 and 4", q)
	}
	// The Prometheus client's own collectors sit next to them.
	for _, family := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if families[family] == nil {
			t.Errorf("%s missing", family)
		}
	}
}

func counterValue(m *dto.Metric) float64 { return m.GetCounter().GetValue() }
func gaugeValue(m *dto.Metric) float64   { return m.GetGauge().GetValue() }
func summarySum(m *dto.Metric) float64   { return m.GetSummary().GetSampleSum() }
func summaryCount(m *dto.Metric) float64 { return float64(m.GetSummary().GetSampleCount()) }

func TestSplitMetricName(t *testing.T) {
	for raw, want := range map[string]string{
		"github.requests":                   "github.requests{}",
		"github.rate.limit[installation:7]": "github.rate.limit{installation=7}",
		"x[b:2,a:1]":                        "x{a=1,b=2}",
		"x[not-a-tag]":                      "x{}",
		"x[unclosed":                        "x[unclosed{}",
	} {
		name, labels, values := splitMetricName(raw)
		got := name + "{"
		for i := range labels {
			if i > 0 {
				got += ","
			}
			got += labels[i] + "=" + values[i]
		}
		got += "}"
		if got != want {
			t.Errorf("splitMetricName(%q) = %s, want %s", raw, got, want)
		}
	}
	if got := sanitizeName("github.requests.2xx-é"); got != "github_requests_2xx__" {
		t.Errorf("sanitizeName: %q", got)
	}
}
