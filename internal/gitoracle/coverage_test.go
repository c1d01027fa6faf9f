package gitoracle

import "testing"

func TestUnexercisedOutcomes(t *testing.T) {
	cases := map[string]struct {
		total map[Outcome]int
		want  int
	}{
		"all reached":  {map[Outcome]int{Clean: 10, Conflict: 10, NothingToCommit: 10}, 0},
		"one short":    {map[Outcome]int{Clean: 10, Conflict: 9, NothingToCommit: 10}, 1},
		"none reached": {map[Outcome]int{}, 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := UnexercisedOutcomes(tc.total, 10); len(got) != tc.want {
				t.Errorf("UnexercisedOutcomes = %q, want %d messages", got, tc.want)
			}
		})
	}
}
