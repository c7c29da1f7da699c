#!/usr/bin/env bash
# The offline security gates (`nx run workspace-checks:security`, or `nx run-many -t security`):
#   1. gitleaks over the git history and the working tree (tools/scripts/secret-scan.sh);
#   2. ESLint with the security rules (eslint.security.config.mjs) on the Node services and service-kit.
# Scans that need a vulnerability database (npm audit, dependency review, grype image scan, CodeQL)
# run in .github/workflows/security.yml only: this machine has no internet.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"
status=0
bash tools/scripts/secret-scan.sh || status=1
for project in apps/catalog apps/orders libs/server/service-kit; do
  printf 'security: eslint (security rules) %s\n' "$project" >&2
  (cd "$project" && npx --no eslint --max-warnings=0 src) || status=1
done
exit "$status"
