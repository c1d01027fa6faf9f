package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxrollback/flux-rollback/register"
	"github.com/fluxrollback/flux-rollback/server"
)

// The fields of the rendered objects the tests look at.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int           `yaml:"replicas"`
		Selector map[string]any `yaml:"selector"`
		Ports    []servicePort  `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort string `yaml:"targetPort"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
		RunAsUser      *int  `yaml:"runAsUser"`
		SeccompProfile struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe probe `yaml:"readinessProbe"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	PeriodSeconds    int `yaml:"periodSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
	HTTPGet          struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// deployFS copies deploy/ into an in-memory file system, with extra files.
func deployFS(t *testing.T, extra map[string]string) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir("deploy", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile("/"+filepath.ToSlash(p), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range extra {
		if err := mem.WriteFile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	return mem
}

// render builds the kustomization at dir with the kustomize library and
// returns the objects by kind.
func render(t *testing.T, fsys filesys.FileSystem, dir string) map[string][]object {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out := map[string][]object{}
	for _, r := range resources.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var o object
		if err := yaml.Unmarshal(data, &o); err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		out[o.Kind] = append(out[o.Kind], o)
	}
	return out
}

func one(t *testing.T, objects map[string][]object, kind string) object {
	t.Helper()
	if len(objects[kind]) != 1 {
		t.Fatalf("want one %s, got %d", kind, len(objects[kind]))
	}
	return objects[kind][0]
}

// TestDeployBase renders deploy/base and checks what a cluster depends on:
// the probes on the health route and port, the security context, the
// configuration and key mounted where the binary reads them, the Secret's
// keys as register writes them, and no secret in the base.
func TestDeployBase(t *testing.T) {
	objects := render(t, deployFS(t, nil), "/deploy/base")
	if len(objects["Secret"]) != 0 {
		t.Errorf("the base holds a Secret: %+v", objects["Secret"])
	}
	if len(objects["ServiceMonitor"]) != 0 {
		t.Error("the base holds a ServiceMonitor; it belongs to the component")
	}
	deployment := one(t, objects, "Deployment")
	pod := deployment.Spec.Template.Spec
	if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", deployment.Spec.Replicas)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("containers: %+v", pod.Containers)
	}
	c := pod.Containers[0]

	// Ports and probes.
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != server.DefaultPort || c.Ports[0].Name != "http" {
		t.Errorf("ports %+v, want http on %d", c.Ports, server.DefaultPort)
	}
	for name, p := range map[string]probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p.HTTPGet.Path != server.HealthRoute || p.HTTPGet.Port != "http" {
			t.Errorf("%s probe %+v, want %s on http", name, p.HTTPGet, server.HealthRoute)
		}
	}

	// Security.
	sc := pod.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod security context %+v", sc)
	}
	csc := c.SecurityContext
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		!slices.Equal(csc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container security context %+v", csc)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("no %s request and limit: %+v", r, c.Resources)
		}
	}

	// Draining: the grace period covers the preStop sleep and the server's
	// shutdown_delay and shutdown_timeout from the ConfigMap, and liveness
	// does not cut it short.
	configMap := one(t, objects, "ConfigMap")
	cfg := server.DefaultConfig()
	if err := yaml.Unmarshal([]byte(configMap.Data["config.yml"]), cfg); err != nil {
		t.Fatalf("config.yml: %v", err)
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if preStop == 0 || grace < preStop+cfg.Server.ShutdownDelay+cfg.Server.ShutdownTimeout+5*time.Second {
		t.Errorf("grace period %s does not cover preStop %s, shutdown_delay %s and shutdown_timeout %s with a margin",
			grace, preStop, cfg.Server.ShutdownDelay, cfg.Server.ShutdownTimeout)
	}
	liveness := time.Duration(c.LivenessProbe.PeriodSeconds*c.LivenessProbe.FailureThreshold) * time.Second
	if liveness < grace {
		t.Errorf("liveness gives up after %s, within the %s grace period", liveness, grace)
	}

	// The configuration file: the container runs the image's entrypoint
	// with its args; --config names a file of the mounted ConfigMap.
	argv := append(entrypointArgs(t), c.Args...)
	if len(argv) != 3 || argv[0] != "serve" || argv[1] != "--config" {
		t.Fatalf("the container runs flux-rollback %v", argv)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	configFile := argv[2]
	if configFile != defaultConfigPath {
		t.Errorf("--config %s; the image reads %s when mounted", configFile, defaultConfigPath)
	}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			if v.ConfigMap.Name != configMap.Metadata.Name || mounts[v.Name] != path.Dir(configFile) || configMap.Data[path.Base(configFile)] == "" {
				t.Errorf("the ConfigMap %s is mounted at %s; %s is not in it", v.ConfigMap.Name, mounts[v.Name], configFile)
			}
		case v.Secret != nil:
			if v.Secret.SecretName != "flux-rollback" || len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != register.FilePrivateKey {
				t.Errorf("secret volume %+v", v.Secret)
			}
			keyFile := path.Join(mounts[v.Name], v.Secret.Items[0].Path)
			if env(c, server.EnvPrivateKeyFile) != keyFile {
				t.Errorf("%s=%s; the key is mounted at %s", server.EnvPrivateKeyFile, env(c, server.EnvPrivateKeyFile), keyFile)
			}
		}
	}
	for variable, key := range map[string]string{"GITHUB_APP_INTEGRATION_ID": register.FileAppID, "GITHUB_APP_WEBHOOK_SECRET": register.FileWebhookSecret} {
		if got := secretEnv(c, variable); got != "flux-rollback/"+key {
			t.Errorf("%s comes from %q, want the Secret flux-rollback's %s", variable, got, key)
		}
	}

	// The Service reaches the pods' http port.
	svc := one(t, objects, "Service")
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if deployment.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the Service selects %s=%v, which the pods do not carry", k, v)
		}
	}
	if len(svc.Spec.Selector) == 0 {
		t.Error("the Service selects nothing")
	}
}

func env(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func secretEnv(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	return ""
}

// TestDeployExampleOverlay renders the example overlay with the files
// register writes: the Secret holds them under the keys the base reads, its
// generated name is the one the Deployment refers to, and the overlay's
// config.yml loads strictly.
func TestDeployExampleOverlay(t *testing.T) {
	fsys := deployFS(t, map[string]string{
		"/deploy/overlays/example/secrets/app-id":          "42",
		"/deploy/overlays/example/secrets/webhook-secret":  "not-a-real-secret",
		"/deploy/overlays/example/secrets/private-key.pem": "not a real key",
	})
	objects := render(t, fsys, "/deploy/overlays/example")
	secret := one(t, objects, "Secret")
	pod := one(t, objects, "Deployment").Spec.Template.Spec
	if !strings.HasPrefix(secret.Metadata.Name, "flux-rollback-") {
		t.Errorf("secret name %s", secret.Metadata.Name)
	}
	for _, key := range []string{register.FileAppID, register.FileWebhookSecret, register.FilePrivateKey} {
		if secret.Data[key] == "" {
			t.Errorf("the Secret has no %s", key)
		}
	}
	refs := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			refs[v.Secret.SecretName] = true
		}
	}
	for _, e := range pod.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.ValueFrom.SecretKeyRef.Name] = true
		}
	}
	if len(refs) != 1 || !refs[secret.Metadata.Name] {
		t.Errorf("the Deployment refers to the Secrets %v; the overlay generates %s", refs, secret.Metadata.Name)
	}
	if img := pod.Containers[0].Image; !strings.HasPrefix(img, "ghcr.io/fluxrollback/flux-rollback:") {
		t.Errorf("image %s has no tag", img)
	}
	// The overlay's config.yml passes check-config with the Secret's values.
	configMap := one(t, objects, "ConfigMap")
	clearEnv(t)
	t.Setenv("GITHUB_APP_INTEGRATION_ID", "42")
	t.Setenv("GITHUB_APP_WEBHOOK_SECRET", testSecret)
	t.Setenv("GITHUB_APP_PRIVATE_KEY", testKeyPEM(t))
	var stdout strings.Builder
	if code := run(context.Background(), []string{"check-config", "--config", writeConfig(t, configMap.Data["config.yml"])}, strings.NewReader(""), &stdout, io.Discard); code != 0 {
		t.Errorf("check-config of the overlay's config.yml: %s", stdout.String())
	}
}

// TestDeployServiceMonitorComponent: the ServiceMonitor comes only with the
// component, and scrapes /metrics on the Service's port.
func TestDeployServiceMonitorComponent(t *testing.T) {
	fsys := deployFS(t, map[string]string{
		"/deploy/overlays/monitored/kustomization.yaml": "resources: [../../base]\ncomponents: [../../components/servicemonitor]\n",
	})
	objects := render(t, fsys, "/deploy/overlays/monitored")
	sm := one(t, objects, "ServiceMonitor")
	svc := one(t, objects, "Service")
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Path != server.MetricsRoute || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
		t.Errorf("endpoints %+v", sm.Spec.Endpoints)
	}
}
