package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/fluxrollback/flux-rollback/internal/logkey"

	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rcrowley/go-metrics"
	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/githubapi"
)

// metricPrefix starts the name of every metric flux-rollback defines.
const metricPrefix = "flux_rollback_"

// MetricsKeyRequestsExpectedNotFound counts 404 answers to requests that
// expected one (githubapi.ExpectNotFound): a repository without a
// configuration file is not a failed request.
const MetricsKeyRequestsExpectedNotFound = "github.requests.not_found_expected"

// quantiles reported for timers and histograms.
var quantiles = []float64{0.5, 0.9, 0.99}

// metricsHandler serves the Prometheus exposition formats through the
// Prometheus client library: the Go runtime and process collectors, and the
// go-metrics registry where go-githubapp records its client, dispatcher and
// scheduler metrics, converted at scrape time by goMetricsCollector.
func metricsHandler(registry metrics.Registry, logger zerolog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		goMetricsCollector{registry},
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A family that cannot be encoded (two go-metrics of different
		// kinds sanitised to one name) is left out and logged; the rest
		// is served.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      promLogger{logger},
	})
}

// promLogger logs promhttp's errors through zerolog.
type promLogger struct{ logger zerolog.Logger }

func (l promLogger) Println(v ...any) {
	l.logger.Error().Str(logkey.Component, "metrics").Msg(strings.ReplaceAll(fmt.Sprint(v...), "\n", " "))
}

// goMetricsCollector converts the go-metrics registry into Prometheus
// metrics on every scrape. go-metrics names such as
// "github.rate.limit[installation:42]" become the family
// flux_rollback_github_rate_limit with the label installation="42";
// counters and meters get _total, timers _seconds.
//
// It describes nothing up front (an unchecked collector): its families are
// whatever go-githubapp has recorded so far.
type goMetricsCollector struct{ registry metrics.Registry }

func (goMetricsCollector) Describe(chan<- *prometheus.Desc) {}

func (c goMetricsCollector) Collect(ch chan<- prometheus.Metric) {
	c.registry.Each(func(rawName string, i any) {
		base, names, values := splitMetricName(rawName)
		name := metricPrefix + sanitizeName(base)
		desc := func(family string) *prometheus.Desc {
			return prometheus.NewDesc(family, "go-metrics "+base, names, nil)
		}
		switch m := i.(type) {
		case metrics.Counter:
			ch <- prometheus.MustNewConstMetric(desc(name+"_total"), prometheus.CounterValue, float64(m.Snapshot().Count()), values...)
		case metrics.Gauge:
			ch <- prometheus.MustNewConstMetric(desc(name), prometheus.GaugeValue, float64(m.Snapshot().Value()), values...)
		case metrics.GaugeFloat64:
			ch <- prometheus.MustNewConstMetric(desc(name), prometheus.GaugeValue, m.Snapshot().Value(), values...)
		case metrics.Meter:
			ch <- prometheus.MustNewConstMetric(desc(name+"_total"), prometheus.CounterValue, float64(m.Snapshot().Count()), values...)
		case metrics.Timer:
			s := m.Snapshot()
			// go-metrics times in nanoseconds; Prometheus wants seconds.
			ch <- summary(desc(name+"_seconds"), s.Count(), s.Mean(), s.Percentiles(quantiles), 1e-9, values)
		case metrics.Histogram:
			s := m.Snapshot()
			ch <- summary(desc(name), s.Count(), s.Mean(), s.Percentiles(quantiles), 1, values)
		}
	})
}

// summary builds a Prometheus summary from a go-metrics sample. The sample is
// a decaying reservoir of recent values, so its own sum covers only those;
// mean times count estimates the sum over all values consistently with count.
func summary(desc *prometheus.Desc, count int64, mean float64, values []float64, scale float64, labels []string) prometheus.Metric {
	qs := make(map[float64]float64, len(quantiles))
	for i, q := range quantiles {
		qs[q] = values[i] * scale
	}
	return prometheus.MustNewConstSummary(desc, uint64(count), mean*float64(count)*scale, qs, labels...)
}

// splitMetricName separates go-githubapp's tag suffix from a metric name:
// "github.handler.error[event:push]" is "github.handler.error" with the
// label event="push". Labels are sorted by name.
func splitMetricName(raw string) (base string, names, values []string) {
	open := strings.IndexByte(raw, '[')
	if open < 0 || !strings.HasSuffix(raw, "]") {
		return raw, nil, nil
	}
	type pair struct{ k, v string }
	var pairs []pair
	seen := map[string]bool{}
	for _, tag := range strings.Split(raw[open+1:len(raw)-1], ",") {
		k, v, ok := strings.Cut(tag, ":")
		if !ok || k == "" {
			continue
		}
		k = sanitizeName(k)
		if seen[k] {
			continue
		}
		seen[k] = true
		pairs = append(pairs, pair{k, v})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k < pairs[j].k })
	for _, p := range pairs {
		names = append(names, p.k)
		values = append(values, p.v)
	}
	return raw[:open], names, values
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

// requestCountKeys are the request counters of go-githubapp's ClientMetrics,
// which counts every 4xx as a failure.
var requestCountKeys = map[string]bool{
	githubapp.MetricsKeyRequests:       true,
	githubapp.MetricsKeyRequests2xx:    true,
	githubapp.MetricsKeyRequests3xx:    true,
	githubapp.MetricsKeyRequests4xx:    true,
	githubapp.MetricsKeyRequests5xx:    true,
	githubapp.MetricsKeyRequestsCached: true,
}

// clientMetrics records the GitHub API requests under go-githubapp's names,
// except that a 404 answering a request marked with githubapi.ExpectNotFound
// is counted as github.requests.not_found_expected instead of 4xx.
//
// go-githubapp's ClientMetrics still records the per-installation rate-limit
// gauges (only it knows the installation of a request), but its request
// counters go to a registry that is never served: rateLimitOnly.
func clientMetrics(registry metrics.Registry) []githubapp.ClientMiddleware {
	for key := range requestCountKeys {
		metrics.GetOrRegisterCounter(key, registry)
	}
	expected := metrics.GetOrRegisterCounter(MetricsKeyRequestsExpectedNotFound, registry)
	count := func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(r)
			if res == nil {
				return res, err
			}
			registry.Get(githubapp.MetricsKeyRequests).(metrics.Counter).Inc(1)
			switch {
			case res.StatusCode == http.StatusNotFound && githubapi.NotFoundExpected(r.Context()):
				expected.Inc(1)
			case res.StatusCode >= 200 && res.StatusCode < 600:
				registry.Get([]string{githubapp.MetricsKeyRequests2xx, githubapp.MetricsKeyRequests3xx, githubapp.MetricsKeyRequests4xx, githubapp.MetricsKeyRequests5xx}[res.StatusCode/100-2]).(metrics.Counter).Inc(1)
			}
			if res.Header.Get(httpcache.XFromCache) != "" {
				registry.Get(githubapp.MetricsKeyRequestsCached).(metrics.Counter).Inc(1)
			}
			return res, err
		})
	}
	rateLimits := rateLimitOnly{Registry: registry, discard: metrics.NewRegistry()}
	return []githubapp.ClientMiddleware{count, githubapp.ClientMetrics(rateLimits)}
}

// rateLimitOnly passes go-githubapp's rate-limit gauges to the served
// registry and keeps its request counters aside.
type rateLimitOnly struct {
	metrics.Registry
	discard metrics.Registry
}

func (r rateLimitOnly) Get(name string) any {
	if requestCountKeys[name] {
		return r.discard.Get(name)
	}
	return r.Registry.Get(name)
}

func (r rateLimitOnly) GetOrRegister(name string, metric any) any {
	if requestCountKeys[name] {
		return r.discard.GetOrRegister(name, metric)
	}
	return r.Registry.GetOrRegister(name, metric)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
