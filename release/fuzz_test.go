package release

import (
	"strings"
	"testing"
)

// FuzzAnalyze feeds arbitrary patches to detection: it must never panic, and
// every change it reports must name a real value change at a real line.
func FuzzAnalyze(f *testing.F) {
	f.Add(kustomizationExamplePatch, "Auto-release x")
	f.Add("@@ -8,3 +8,3 @@\n     image:\n-      repository: a # {\"$imagepolicy\": \"ns:a:name\"}\n+      repository: b # {\"$imagepolicy\": \"ns:a:name\"}\n       tag: 1", "bump")
	f.Add("@@ -1,4 +1,4 @@\n images:\n-- name: a\n+- name: b\n   newTag: x\n   digest: y", "Release a to b")
	f.Add("@@ -1 +1 @@\n-- - image: a:1\n+- - image: a:2", "Auto-release a:2")
	f.Fuzz(func(t *testing.T, patch, message string) {
		c := Commit{SHA: "s", Message: message, ParentCount: 1, Files: []File{{Path: "f.yaml", Status: "modified", Patch: patch}}}
		r, reason := Analyze(c, Options{})
		if r == nil {
			if reason == "" {
				t.Fatal("no release and no reason")
			}
			return
		}
		for _, ch := range r.Changes {
			if ch.From == ch.To || ch.Line < 1 || ch.File != "f.yaml" {
				t.Fatalf("bad change %+v", ch)
			}
			switch ch.Field {
			case FieldTag, FieldDigest, FieldName, FieldImage:
			default:
				t.Fatalf("bad field in %+v", ch)
			}
		}
	})
}

// FuzzRestore feeds arbitrary files to Restore: it must never panic, and
// when it succeeds it changes at most the one line it restored.
func FuzzRestore(f *testing.F) {
	f.Add(deploymentV1, "ghcr.io/acme/web", "", 12)
	f.Add(helmReleaseV2, "ghcr.io/acme/web", "flux-system:web:tag", 10)
	f.Add(kustomizationV2, "ghcr.io/acme/db", "", 10)
	f.Add("image: a:1\r\nimage: a:2\r\n", "a", "", 2)
	f.Fuzz(func(t *testing.T, content, image, setter string, line int) {
		ch := ImageChange{Image: image, Field: FieldTag, From: "0.9", To: "1.0", File: "f.yaml", Line: line, Setter: setter}
		got, err := Restore([]byte(content), []ImageChange{ch})
		if err != nil {
			return
		}
		before, after := splitLines(content), splitLines(string(got))
		if len(before) != len(after) {
			t.Fatalf("line count changed from %d to %d", len(before), len(after))
		}
		changed := 0
		for i := range before {
			if before[i] != after[i] {
				changed++
				if strings.HasSuffix(before[i], "\r\n") != strings.HasSuffix(after[i], "\r\n") {
					t.Fatalf("line %d lost its line ending: %q -> %q", i+1, before[i], after[i])
				}
			}
		}
		if changed > 1 {
			t.Fatalf("%d lines changed for one reference", changed)
		}
	})
}
