#!/usr/bin/env bash
# Writes fakegithub/testdata/openapi-routes.txt: the "METHOD /path/{template}"
# lines of GitHub's official api.github.com OpenAPI description (npm package
# @octokit/openapi) for the routes the fake GitHub serves. A test in
# fakegithub checks that every route the fake serves is listed there, so the
# fake cannot serve a route GitHub does not have.
#
# Usage: scripts/extract-openapi-routes.sh [@octokit/openapi version]
set -euo pipefail

version="${1:-23.0.2}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/fakegithub/testdata/openapi-routes.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$root" && go run ./fakegithub/internal/routelist) | sort -u >"$work/fake.txt"

(cd "$work" && npm pack --silent "@octokit/openapi@$version" >/dev/null)
tar -xzf "$work"/octokit-openapi-*.tgz -C "$work" package/generated/api.github.com.json

# Every operation of the description, as "METHOD /path".
node -e '
const spec = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const m of methods) {
    if (item[m]) console.log(m.toUpperCase() + " " + path);
  }
}' "$work/package/generated/api.github.com.json" | sort -u >"$work/official.txt"

grep -xFf "$work/fake.txt" "$work/official.txt" >"$out" || true

missing="$(grep -vxFf "$work/official.txt" "$work/fake.txt" || true)"
if [[ -n "$missing" ]]; then
  echo "routes served by the fake that api.github.com does not have:" >&2
  echo "$missing" >&2
  exit 1
fi
echo "wrote $(wc -l <"$out") routes to ${out#"$root"/} (@octokit/openapi@$version)"
