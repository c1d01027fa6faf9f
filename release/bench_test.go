package release

import (
	"strings"
	"testing"
)

// BenchmarkAnalyze measures detection of a release touching several images
// across a long HelmRelease, the per-commit cost of scanning a history.
func BenchmarkAnalyze(b *testing.B) {
	var old, new strings.Builder
	for i := range 200 {
		block := "    app" + strings.Repeat("x", i%7) + ":\n      image:\n        repository: ghcr.io/acme/app\n        tag: \"1.0.0\"\n"
		old.WriteString(block)
		if i%20 == 0 {
			block = strings.Replace(block, "1.0.0", "1.0.1", 1)
		}
		new.WriteString(block)
	}
	c := Commit{SHA: "s", Message: "Auto-release multiple (10) images", ParentCount: 1,
		Files: []File{{Path: "values.yaml", Status: "modified", Patch: gitPatch(b, old.String(), new.String())}}}
	b.ReportAllocs()
	for b.Loop() {
		if r := Detect(c, Options{}); r == nil || len(r.Changes) != 10 {
			b.Fatalf("Detect() = %+v", r)
		}
	}
}

// BenchmarkRestore measures restoring one reference in a large file.
func BenchmarkRestore(b *testing.B) {
	var content strings.Builder
	for range 500 {
		content.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: ghcr.io/acme/other:1.0\n")
	}
	content.WriteString("---\nimage: ghcr.io/acme/web:1.4.2\n")
	data := []byte(content.String())
	changes := []ImageChange{{Image: "ghcr.io/acme/web", Field: FieldTag, From: "1.4.1", To: "1.4.2", File: "f.yaml", Line: 4502}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Restore(data, changes); err != nil {
			b.Fatal(err)
		}
	}
}
