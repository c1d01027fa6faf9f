package register

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/go-github/v57/github"
	"go.yaml.in/yaml/v3"
)

// The files WriteFiles writes, named as the deploy/ overlay's secretGenerator
// and the Secret manifest's keys name them.
const (
	FileAppID         = "app-id"
	FileWebhookSecret = "webhook-secret"
	FilePrivateKey    = "private-key.pem"
)

// WriteFiles writes the App's id, webhook secret and private key to files of
// mode 0600 in dir (created with mode 0700 if missing), refusing to replace
// existing files. It returns the paths written.
func WriteFiles(dir string, app *github.AppConfig) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	files := []struct{ name, content string }{
		// No trailing newline: a Secret's file becomes an environment
		// variable's value as it is.
		{FileAppID, strconv.FormatInt(app.GetID(), 10)},
		{FileWebhookSecret, app.GetWebhookSecret()},
		{FilePrivateKey, app.GetPEM()},
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			return nil, fmt.Errorf("%s already exists; move it away or choose another directory", filepath.Join(dir, f.name))
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	var written []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		// O_EXCL: never follow a link planted where a secret is written.
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return written, fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := io.WriteString(out, f.content)
		cerr := out.Close()
		if err := errors.Join(werr, cerr); err != nil {
			return written, fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}

// KubernetesSecret writes a Secret manifest named name holding the App's
// id, webhook secret and private key under the keys deploy/ reads.
func KubernetesSecret(w io.Writer, name string, app *github.AppConfig) error {
	secret := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": name},
		"type":       "Opaque",
		"stringData": map[string]string{
			FileAppID:         strconv.FormatInt(app.GetID(), 10),
			FileWebhookSecret: app.GetWebhookSecret(),
			FilePrivateKey:    app.GetPEM(),
		},
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(secret); err != nil {
		return err
	}
	return enc.Close()
}
