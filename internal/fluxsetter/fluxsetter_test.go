package fluxsetter

import "testing"

func TestSplit(t *testing.T) {
	cases := map[string]struct {
		setter, policy, field string
		ok                    bool
	}{
		"whole reference": {"flux-system:api", "flux-system:api", "", true},
		"tag":             {"flux-system:api:tag", "flux-system:api", "tag", true},
		"name":            {"flux-system:api:name", "flux-system:api", "name", true},
		"digest":          {"flux-system:api:digest", "flux-system:api", "digest", true},
		"unknown part":    {"flux-system:api:version", "", "", false},
		"no namespace":    {"api", "", "", false},
		"empty name":      {"flux-system:", "", "", false},
		"too many parts":  {"a:b:tag:x", "", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			policy, field, ok := Split(tc.setter)
			if policy != tc.policy || field != tc.field || ok != tc.ok {
				t.Fatalf("Split(%q) = %q, %q, %v; want %q, %q, %v", tc.setter, policy, field, ok, tc.policy, tc.field, tc.ok)
			}
			if ok && Join(policy, field) != tc.setter {
				t.Fatalf("Join(%q, %q) = %q", policy, field, Join(policy, field))
			}
		})
	}
}

func TestValidPolicy(t *testing.T) {
	cases := map[string]bool{
		"flux-system:api": true, "apps:api.v2": true, "a:b": true,
		"Flux-System:api": false, "flux-system:API": false, "flux_system:api": false,
		"flux-system": false, "-a:b": false, "a:b-": false, "a:b..c": false,
	}
	for policy, want := range cases {
		t.Run(policy, func(t *testing.T) {
			if got := ValidPolicy(policy); got != want {
				t.Errorf("ValidPolicy(%q) = %v, want %v", policy, got, want)
			}
		})
	}
}

func TestFromComment(t *testing.T) {
	cases := map[string]struct {
		comment, setter string
	}{
		"usual":                 {` {"$imagepolicy": "flux-system:api"}`, "flux-system:api"},
		"hash kept":             {`# {"$imagepolicy": "flux-system:api:tag"}`, "flux-system:api:tag"},
		"no spaces":             {`{"$imagepolicy":"flux-system:api"}`, "flux-system:api"},
		"other string members":  {` {"$imagepolicy": "a:b", "note": "x"}`, "a:b"},
		"long form":             {` {"$ref": "#/definitions/io.k8s.cli.setters.a:b:digest"}`, "a:b:digest"},
		"words after":           {` {"$imagepolicy": "a:b"} pinned`, ""},
		"words before":          {` pinned {"$imagepolicy": "a:b"}`, ""},
		"a member not a string": {` {"$imagepolicy": "a:b", "n": 1}`, ""},
		"undefined setter":      {` {"$imagepolicy": "a:b:version"}`, ""},
		"held marker":           {` {"$flux-rollback-hold": "a:b", "rolled_back": "d4cc490"}`, ""},
		"other long form":       {` {"$ref": "#/definitions/io.k8s.cli.substitutions.a:b"}`, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setter, ok := FromComment(tc.comment)
			if setter != tc.setter || ok != (tc.setter != "") {
				t.Fatalf("FromComment(%q) = %q, %v; want %q", tc.comment, setter, ok, tc.setter)
			}
		})
	}
}
