package server_test

import (
	"context"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fluxrollback/flux-rollback/sandbox"
)

// TestExpectedNotFoundIsNotAFailedRequest plays a Flux release on a
// repository without a configuration file through the embedded GitHub: the
// configuration loader's 404s (the repository's file, the organisation's
// .github repository) are counted as expected, not as failed 4xx requests.
func TestExpectedNotFoundIsNotAFailedRequest(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	repo, err := sb.AddGitOpsRepo(sandbox.InstallationID, "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.ReleaseV1(ctx, "gcr.io/track-compliance/api-js", "master-26a4b87"); err != nil {
		t.Fatal(err)
	}

	notFound := 0
	for _, r := range sb.GitHub.Requests() {
		if r.Status == http.StatusNotFound {
			notFound++
		}
	}
	if notFound == 0 {
		t.Fatal("GitHub answered no 404: the repository has a configuration file after all")
	}

	req, err := http.NewRequest(http.MethodGet, sb.AppURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string) float64 {
		mf := families[name]
		if mf == nil || len(mf.GetMetric()) != 1 {
			t.Fatalf("no single %s", name)
		}
		m := mf.GetMetric()[0]
		if mf.GetType() == dto.MetricType_COUNTER {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	if got := value("flux_rollback_github_requests_not_found_expected_total"); got != float64(notFound) {
		t.Errorf("expected 404s counted %v, GitHub answered %d", got, notFound)
	}
	if got := value("flux_rollback_github_requests_4xx_total"); got != 0 {
		t.Errorf("%v requests counted as failed 4xx", got)
	}
	if total, ok2xx := value("flux_rollback_github_requests_total"), value("flux_rollback_github_requests_2xx_total"); total != ok2xx+float64(notFound) {
		t.Errorf("requests %v, want the %v 2xx and the %d expected 404s", total, ok2xx, notFound)
	}
}
