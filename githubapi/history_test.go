package githubapi

import (
	"reflect"
	"testing"
	"time"
)

func TestMergeHistoryOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	same := map[string]time.Time{"a": t0, "b": t0, "c": t0, "d": t0, "e": t0}
	cases := map[string]struct {
		lists [][]string
		dates map[string]time.Time
		want  []string
	}{
		"one list keeps its order even against dates": {
			lists: [][]string{{"c", "a", "b"}},
			dates: map[string]time.Time{"a": t0.Add(time.Hour), "b": t0, "c": t0},
			want:  []string{"c", "a", "b"},
		},
		"interleaved paths with equal dates follow both lists": {
			lists: [][]string{{"e", "c", "a"}, {"d", "c", "b"}},
			dates: same,
			want:  []string{"d", "e", "c", "a", "b"},
		},
		"dates break ties between unrelated commits": {
			lists: [][]string{{"a"}, {"b"}},
			dates: map[string]time.Time{"a": t0, "b": t0.Add(time.Minute)},
			want:  []string{"b", "a"},
		},
		"a commit listed for two paths appears once": {
			lists: [][]string{{"b", "a"}, {"b", "a"}},
			dates: same,
			want:  []string{"b", "a"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := mergeHistoryOrder(tc.lists, tc.dates); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mergeHistoryOrder = %v, want %v", got, tc.want)
			}
		})
	}
}
