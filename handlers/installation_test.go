package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

func TestInstallationLogsWhatHappened(t *testing.T) {
	for name, tc := range map[string]struct {
		event, fixture string
		want           map[string]any
	}{
		"installed": {"installation", "installation.created.json", map[string]any{
			"message": "installation changed", "action": "created", "installation_id": 957387.0, "account": "Codertocat",
			"repositories": []any{"Codertocat/Hello-World"},
		}},
		"repositories added": {"installation_repositories", "installation_repositories.added.json", map[string]any{
			"message": "installation repositories changed", "action": "added", "installation_id": 957387.0, "account": "Codertocat",
			"repository_selection": "selected", "repositories_added": []any{"Codertocat/Space"}, "repositories_removed": []any{},
		}},
		"repositories removed": {"installation_repositories", "installation_repositories.removed.json", map[string]any{
			"message": "installation repositories changed", "action": "removed", "installation_id": 2.0,
			"repositories_added": []any{}, "repositories_removed": []any{"octocat/Hello-World"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			ctx := zerolog.New(&out).WithContext(context.Background())
			h := &Installation{Base: &Base{}}
			if err := h.Handle(ctx, tc.event, "delivery", payload); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(out.Bytes(), &line); err != nil {
				t.Fatalf("one JSON log line expected, got %q: %v", out.String(), err)
			}
			for k, v := range tc.want {
				got, _ := json.Marshal(line[k])
				want, _ := json.Marshal(v)
				if string(got) != string(want) {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestInstallationRefusesWhatItCannotRead(t *testing.T) {
	h := &Installation{Base: &Base{}}
	if err := h.Handle(context.Background(), "installation", "d", []byte(`{"installation": 12`)); err == nil {
		t.Error("a truncated payload was accepted")
	}
	if err := h.Handle(context.Background(), "push", "d", []byte(`{}`)); err == nil {
		t.Error("an event it does not handle was accepted")
	}
}
