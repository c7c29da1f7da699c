#!/usr/bin/env bash
# Scan every image named by the image records in RECORDS_DIR with grype, straight from the registry
# by digest, and write one SARIF file to OUT_DIR whose runs carry one category per image
# (grype/<project>) so code scanning keeps them apart. Needs grype's vulnerability database (a
# download): it runs in .github/workflows/security.yml, not offline.
#
#   bash tools/scripts/image-scan.sh dist/images scan-results
#
# Exits non-zero when an image has a critical vulnerability (high ones are reported, not fatal).
set -euo pipefail

GRYPE_PACKAGE=github.com/anchore/grype/cmd/grype
GRYPE_VERSION=v0.122.1

records="${1:?usage: image-scan.sh <records dir> <output dir>}"
out="${2:?usage: image-scan.sh <records dir> <output dir>}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shopt -s nullglob
files=("$records"/*.json)
((${#files[@]} > 0)) || {
  echo "image-scan: no image records in $records: build the images first (nx run-many -t image)." >&2
  exit 1
}

grype="$(bash "$repo_root/tools/scripts/go-tool.sh" grype "$GRYPE_PACKAGE" "$GRYPE_VERSION")"
mkdir -p "$out/parts"
status=0
for record in "${files[@]}"; do
  project="$(node -p 'require(process.argv[1]).project' "$(realpath "$record")")"
  reference="$(node -p 'const r = require(process.argv[1]); `${r.image}@${r.digest}`' "$(realpath "$record")")"
  echo "image-scan: $project $reference" >&2
  # Loopback registries speak plain http.
  if [[ "$reference" == 127.* || "$reference" == localhost* ]]; then export GRYPE_REGISTRY_INSECURE_USE_HTTP=true; fi
  GRYPE_CHECK_FOR_APP_UPDATE=false "$grype" "registry:$reference" --output "sarif=$out/parts/$project.sarif" \
    --output table --fail-on critical || status=$?
done

# One file, one run per image, each with its own category (automationDetails.id).
node -e '
  const fs = require("fs"); const path = require("path");
  const [dir, target] = process.argv.slice(1);
  const runs = fs.readdirSync(dir).filter((f) => f.endsWith(".sarif")).flatMap((f) => {
    const sarif = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    return sarif.runs.map((run) => ({ ...run, automationDetails: { id: `grype/${path.basename(f, ".sarif")}/` } }));
  });
  fs.writeFileSync(target, JSON.stringify({ version: "2.1.0", $schema: "https://json.schemastore.org/sarif-2.1.0.json", runs }));
' "$out/parts" "$out/images.sarif"
rm -rf "$out/parts"
exit "$status"
