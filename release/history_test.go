package release

import (
	"reflect"
	"strings"
	"testing"
)

// history is a repository's releases, newest first.
var history = []Release{
	{SHA: "r5", Generation: 2, Changes: []ImageChange{
		{Field: FieldTag, From: "1.4.2", To: "1.4.3", File: "values.yaml", Line: 4, Setter: "flux-system:web:tag"}}},
	{SHA: "r4", Generation: 1, Changes: []ImageChange{
		{Image: "ghcr.io/acme/db", Field: FieldDigest, From: digestA, To: digestB, File: "k.yaml", Line: 3}}},
	{SHA: "r3", Generation: 1, Changes: []ImageChange{
		{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "web.yaml", Line: 12, Setter: "flux-system:web"},
		{Image: "ghcr.io/acme/worker", Field: FieldTag, From: "2.0.0", To: "2.1.0", File: "web.yaml", Line: 16}}},
	{SHA: "r2", Generation: 1, Changes: []ImageChange{
		{Image: "ghcr.io/acme/web", Field: FieldImage, From: "ghcr.io/acme/web-old:0.9", To: "ghcr.io/acme/web:1.4.1", File: "web.yaml", Line: 12}}},
	{SHA: "r1", Generation: 1, Changes: []ImageChange{
		{Image: "ghcr.io/acme/worker", Field: FieldTag, From: "1.9.0", To: "2.0.0", File: "web.yaml", Line: 16}}},
}

func TestLaterReleases(t *testing.T) {
	cases := map[string]struct {
		sha  string
		want []string
		err  string
	}{
		"same policy or same image name": {sha: "r3", want: []string{"r5"}},
		"by image name":                  {sha: "r2", want: []string{"r3"}},
		"another image in between":       {sha: "r1", want: []string{"r3"}},
		"none later":                     {sha: "r4", want: nil},
		"newest":                         {sha: "r5", want: nil},
		"unknown release":                {sha: "nope", err: "nope is not among the 5 releases"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := LaterReleases(history, tc.sha)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("LaterReleases() error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var shas []string
			for _, r := range got {
				shas = append(shas, r.SHA)
			}
			if !reflect.DeepEqual(shas, tc.want) {
				t.Fatalf("LaterReleases(%s) = %v, want %v", tc.sha, shas, tc.want)
			}
		})
	}
}

func TestImageTags(t *testing.T) {
	cases := map[string]struct {
		image string
		want  []string
	}{
		"tags and whole references":  {"ghcr.io/acme/web", []string{"1.4.2", "1.4.1"}},
		"the first release's From":   {"ghcr.io/acme/worker", []string{"2.1.0", "2.0.0", "1.9.0"}},
		"the old name of a rename":   {"ghcr.io/acme/web-old", []string{"0.9"}},
		"digests are not tags":       {"ghcr.io/acme/db", nil},
		"an image never released":    {"ghcr.io/acme/other", nil},
		"no partial name matching":   {"web", nil},
		"empty name matches nothing": {"", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ImageTags(history, tc.image); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ImageTags(%q) = %v, want %v", tc.image, got, tc.want)
			}
		})
	}
}

func TestHadTag(t *testing.T) {
	cases := map[string]struct {
		image, tag string
		want       bool
	}{
		"released tag":             {"ghcr.io/acme/web", "1.4.2", true},
		"tag before first release": {"ghcr.io/acme/worker", "1.9.0", true},
		"never released":           {"ghcr.io/acme/web", "9.9.9", false},
		"tag of another image":     {"ghcr.io/acme/web", "2.0.0", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := HadTag(history, tc.image, tc.tag); got != tc.want {
				t.Fatalf("HadTag(%q, %q) = %v, want %v", tc.image, tc.tag, got, tc.want)
			}
		})
	}
}
