package fakegithub_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v57/github"
)

func TestCheckRuns(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	gh := e.installationClient(t)
	actions := []*github.CheckRunAction{{Label: "Roll back", Description: "Open a pull request reverting it", Identifier: "rollback"}}
	run, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "deploy", github.CreateCheckRunOptions{
		Name: "Roll back", HeadSHA: head, ExternalID: github.String("podinfo"), Status: github.String("completed"),
		Conclusion: github.String("neutral"), Actions: actions,
		Output: &github.CheckRunOutput{Title: github.String("podinfo 1.1.0"), Summary: github.String("Released podinfo 1.1.0")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetStatus() != "completed" || run.GetConclusion() != "neutral" || run.GetApp().GetID() != appID || run.GetCheckSuite().GetID() == 0 {
		t.Fatalf("check run = %+v", run)
	}
	second, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "deploy", github.CreateCheckRunOptions{Name: "Roll back", HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	if second.GetCheckSuite().GetID() != run.GetCheckSuite().GetID() || second.GetStatus() != "queued" {
		t.Fatalf("second run: suite %d (first %d), status %s", second.GetCheckSuite().GetID(), run.GetCheckSuite().GetID(), second.GetStatus())
	}
	latest, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "deploy", "main", &github.ListCheckRunsOptions{CheckName: github.String("Roll back")})
	if err != nil || latest.GetTotal() != 1 || latest.CheckRuns[0].GetID() != second.GetID() {
		t.Fatalf("latest runs = %+v (%v)", latest, err)
	}
	all, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "deploy", head, &github.ListCheckRunsOptions{Filter: github.String("all")})
	if err != nil || all.GetTotal() != 2 {
		t.Fatalf("all runs = %d (%v)", all.GetTotal(), err)
	}
	updated, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "deploy", second.GetID(), github.UpdateCheckRunOptions{
		Name: "Roll back", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("done"), Summary: github.String("ok"), Text: github.String("details")},
	})
	if err != nil || updated.GetStatus() != "completed" || updated.GetCompletedAt().IsZero() || updated.GetOutput().GetText() != "details" {
		t.Fatalf("updated run = %+v (%v)", updated, err)
	}
	got, _, err := gh.Checks.GetCheckRun(ctx, "acme", "deploy", run.GetID())
	if err != nil || got.GetExternalID() != "podinfo" {
		t.Fatalf("get = %+v (%v)", got, err)
	}
	runs := e.repo.CheckRuns(head)
	if len(runs) != 2 || len(runs[0].Actions) != 1 || runs[0].Actions[0].Identifier != "rollback" || runs[1].Conclusion != "success" {
		t.Fatalf("CheckRuns() = %+v", runs)
	}
}

func TestCheckRunLimits(t *testing.T) {
	e := newEnv(t)
	head := seed(t, e.repo, map[string]string{"a": "1"})
	gh := e.installationClient(t)
	action := func(label, desc, id string) *github.CheckRunAction {
		return &github.CheckRunAction{Label: label, Description: desc, Identifier: id}
	}
	ok := action("Roll back", "Revert this release", "rollback")
	cases := map[string]github.CreateCheckRunOptions{
		"four actions":             {Name: "c", HeadSHA: head, Actions: []*github.CheckRunAction{ok, ok, ok, ok}},
		"label of 21":              {Name: "c", HeadSHA: head, Actions: []*github.CheckRunAction{action(strings.Repeat("l", 21), "d", "i")}},
		"identifier of 21":         {Name: "c", HeadSHA: head, Actions: []*github.CheckRunAction{action("l", "d", strings.Repeat("i", 21))}},
		"description of 41":        {Name: "c", HeadSHA: head, Actions: []*github.CheckRunAction{action("l", strings.Repeat("d", 41), "i")}},
		"summary over 65535":       {Name: "c", HeadSHA: head, Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String(strings.Repeat("s", 65536))}},
		"output without text":      {Name: "c", HeadSHA: head, Output: &github.CheckRunOutput{Title: github.String("t")}},
		"unknown head":             {Name: "c", HeadSHA: strings.Repeat("1", 40)},
		"unknown conclusion":       {Name: "c", HeadSHA: head, Conclusion: github.String("great")},
		"completed, no conclusion": {Name: "c", HeadSHA: head, Status: github.String("completed")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "deploy", opts)
			wantStatus(t, err, http.StatusUnprocessableEntity, "")
		})
	}
	// The limits are inclusive.
	_, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "deploy", github.CreateCheckRunOptions{Name: "c", HeadSHA: head,
		Actions: []*github.CheckRunAction{ok, ok, action(strings.Repeat("l", 20), strings.Repeat("d", 40), strings.Repeat("i", 20))},
		Output:  &github.CheckRunOutput{Title: github.String("t"), Summary: github.String(strings.Repeat("s", 65535))},
	})
	if err != nil {
		t.Fatalf("a check run at the limits was refused: %v", err)
	}
	if n := len(e.repo.CheckRuns("")); n != 1 {
		t.Fatalf("%d check runs stored, want only the valid one", n)
	}
}
