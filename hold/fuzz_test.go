package hold

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	for _, content := range roundTripInputs() {
		f.Add(content)
	}
	f.Add("a: x:1 # {\"$imagepolicy\": \"flux-system:api\"}\n" + automatedDeployment)
}

// FuzzHoldThenResume checks, on any file without holds, that Hold changes
// nothing but the marker text of the lines it holds, and that Resume gives
// the file back byte for byte.
func FuzzHoldThenResume(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, content string) {
		if FindHeld([]byte(content)) != nil {
			return
		}
		all := make([]int, strings.Count(content, "\n")+1)
		for i := range all {
			all[i] = i + 1
		}
		held, holds := Hold([]byte(content), all, "d4cc490")
		before, after := splitLines([]byte(content)), splitLines(held)
		if len(before) != len(after) {
			t.Fatalf("Hold changed the number of lines: %d -> %d", len(before), len(after))
		}
		byLine := map[int]Held{}
		for _, h := range holds {
			byLine[h.Line] = h
		}
		for i := range before {
			h, ok := byLine[i+1]
			if !ok {
				if before[i] != after[i] {
					t.Fatalf("line %d changed without a hold: %q -> %q", i+1, before[i], after[i])
				}
				continue
			}
			want := before[i][:h.col] + h.Text + before[i][h.col+len(h.Original):]
			if before[i][h.col:h.col+len(h.Original)] != h.Original || after[i] != want {
				t.Fatalf("line %d: %q -> %q, a change beyond the marker %q", i+1, before[i], after[i], h.Original)
			}
		}
		if len(Markers(held)) != len(Markers([]byte(content)))-len(holds) {
			t.Fatalf("%d markers left after holding all %d", len(Markers(held)), len(holds))
		}
		back, undone := Resume(held, nil)
		if string(back) != content {
			t.Fatalf("Resume(Hold(x)) =\n%q\nwant\n%q", back, content)
		}
		if len(undone) != len(holds) {
			t.Fatalf("Resume undid %d of %d holds", len(undone), len(holds))
		}
	})
}

// FuzzMarkersAgreeWithTheController compares Markers with the restated
// controller rule on any file, for the markers naming the cluster's
// policies.
func FuzzMarkersAgreeWithTheController(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, content string) {
		flux := controllerMarkers([]byte(content), clusterPolicies)
		if flux == nil {
			flux = map[int]string{}
		}
		got := map[int]string{}
		for _, m := range Markers([]byte(content)) {
			if slices.Contains(clusterPolicies, m.Policy) {
				got[m.ValueLine] = m.Setter()
			}
		}
		if !maps.Equal(got, flux) {
			t.Fatalf("Markers = %v, the controller sets %v", got, flux)
		}
	})
}

// FuzzLockThenUnlock checks that UnlockV1 takes back exactly what LockV1
// added, on any file.
func FuzzLockThenUnlock(f *testing.F) {
	addSeeds(f)
	f.Add(automatedDeployment)
	f.Add("---\n" + automatedDeployment + "---\n" + automatedDeployment)
	f.Fuzz(func(t *testing.T, content string) {
		if LockedV1([]byte(content)) != nil {
			return
		}
		all := make([]int, strings.Count(content, "\n")+1)
		for i := range all {
			all[i] = i + 1
		}
		locked, workloads := LockV1([]byte(content), all, "d4cc490", "octocat")
		if len(workloads) == 0 {
			if string(locked) != content {
				t.Fatalf("LockV1 changed the file without locking anything")
			}
			return
		}
		back, unlocked := UnlockV1(locked, nil)
		if string(back) != content {
			t.Fatalf("UnlockV1(LockV1(x)) =\n%q\nwant\n%q", back, content)
		}
		if len(unlocked) != len(workloads) {
			t.Fatalf("unlocked %d of %d workloads", len(unlocked), len(workloads))
		}
	})
}
