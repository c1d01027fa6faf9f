package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"
)

// metricPrefix starts the name of every exported metric.
const metricPrefix = "flux_rollback_"

// quantiles reported for timers and histograms.
var quantiles = []float64{0.5, 0.9, 0.99}

// metricsHandler serves the go-metrics registry (where go-githubapp records
// its client, dispatcher and scheduler metrics) in the Prometheus exposition
// formats. go-metrics has no Prometheus exporter of its own that is
// maintained, so the conversion to client_model families is written here and
// the encoding is left to expfmt.
func metricsHandler(registry metrics.Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
		w.Header().Set("Content-Type", string(format))
		enc := expfmt.NewEncoder(w, format)
		for _, mf := range gatherFamilies(registry) {
			if err := enc.Encode(mf); err != nil {
				// The status line is already sent; all that is left is to
				// say why the body stops short.
				zerolog.Ctx(r.Context()).Error().Err(err).Str(logkey.Metric, mf.GetName()).Msg("encode metrics")
				return
			}
		}
	})
}

// gatherFamilies converts every metric of the registry into Prometheus
// families, sorted by name. go-metrics names such as
// "github.rate.limit[installation:42]" become the family
// flux_rollback_github_rate_limit with the label installation="42".
func gatherFamilies(registry metrics.Registry) []*dto.MetricFamily {
	families := map[string]*dto.MetricFamily{}
	add := func(name string, typ dto.MetricType, m *dto.Metric) {
		mf, ok := families[name]
		if !ok {
			mf = &dto.MetricFamily{Name: &name, Type: typ.Enum()}
			families[name] = mf
		}
		if mf.GetType() != typ {
			// Two go-metrics of different kinds sanitised to one name;
			// Prometheus cannot hold both, so the first one seen stays.
			return
		}
		mf.Metric = append(mf.Metric, m)
	}

	registry.Each(func(rawName string, i any) {
		base, labels := splitMetricName(rawName)
		name := metricPrefix + sanitizeName(base)
		switch m := i.(type) {
		case metrics.Counter:
			add(name+"_total", dto.MetricType_COUNTER, &dto.Metric{Label: labels, Counter: &dto.Counter{Value: float64ptr(float64(m.Snapshot().Count()))}})
		case metrics.Gauge:
			add(name, dto.MetricType_GAUGE, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: float64ptr(float64(m.Snapshot().Value()))}})
		case metrics.GaugeFloat64:
			add(name, dto.MetricType_GAUGE, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: float64ptr(m.Snapshot().Value())}})
		case metrics.Meter:
			add(name+"_total", dto.MetricType_COUNTER, &dto.Metric{Label: labels, Counter: &dto.Counter{Value: float64ptr(float64(m.Snapshot().Count()))}})
		case metrics.Timer:
			s := m.Snapshot()
			// go-metrics times in nanoseconds; Prometheus wants seconds.
			add(name+"_seconds", dto.MetricType_SUMMARY, summary(labels, s.Count(), s.Mean(), s.Percentiles(quantiles), 1e-9))
		case metrics.Histogram:
			s := m.Snapshot()
			add(name, dto.MetricType_SUMMARY, summary(labels, s.Count(), s.Mean(), s.Percentiles(quantiles), 1))
		}
	})

	out := make([]*dto.MetricFamily, 0, len(families))
	for _, mf := range families {
		sort.Slice(mf.Metric, func(i, j int) bool { return labelKey(mf.Metric[i]) < labelKey(mf.Metric[j]) })
		out = append(out, mf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// summary builds a Prometheus summary from a go-metrics sample. The sample is
// a decaying reservoir of recent values, so its own sum covers only those;
// mean times count estimates the sum over all values consistently with count.
func summary(labels []*dto.LabelPair, count int64, mean float64, values []float64, scale float64) *dto.Metric {
	s := &dto.Summary{
		SampleCount: uint64ptr(uint64(count)),
		SampleSum:   float64ptr(mean * float64(count) * scale),
	}
	for i, q := range quantiles {
		s.Quantile = append(s.Quantile, &dto.Quantile{Quantile: float64ptr(q), Value: float64ptr(values[i] * scale)})
	}
	return &dto.Metric{Label: labels, Summary: s}
}

// splitMetricName separates go-githubapp's tag suffix from a metric name:
// "github.handler.error[event:push]" is "github.handler.error" with the
// label event="push".
func splitMetricName(raw string) (string, []*dto.LabelPair) {
	open := strings.IndexByte(raw, '[')
	if open < 0 || !strings.HasSuffix(raw, "]") {
		return raw, nil
	}
	var labels []*dto.LabelPair
	for _, tag := range strings.Split(raw[open+1:len(raw)-1], ",") {
		k, v, ok := strings.Cut(tag, ":")
		if !ok || k == "" {
			continue
		}
		k = sanitizeName(k)
		labels = append(labels, &dto.LabelPair{Name: &k, Value: &v})
	}
	sort.Slice(labels, func(i, j int) bool { return labels[i].GetName() < labels[j].GetName() })
	return raw[:open], labels
}

// sanitizeName maps a go-metrics name onto Prometheus's legacy name alphabet
// [a-zA-Z0-9_]; every other character becomes an underscore.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		default:
			return '_'
		}
	}, s)
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.GetLabel() {
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(l.GetValue())
		b.WriteByte(',')
	}
	return b.String()
}

func float64ptr(v float64) *float64 { return &v }
func uint64ptr(v uint64) *uint64    { return &v }
