#!/usr/bin/env bash
# Secret scanning with gitleaks (pinned in tools/scripts/supply-chain-tools.txt), offline:
#   1. the git history: every commit reachable from any ref (`gitleaks git`);
#   2. the working tree as git sees it: tracked and untracked files that are not ignored (copied to
#      a temporary directory, so node_modules, dist and .local are never scanned).
# Rules: gitleaks' defaults plus .gitleaks.toml (allowlisted test fixtures). Findings are printed
# redacted. Exit 0: clean; 1: a secret was found (or gitleaks failed).
#
#   bash tools/scripts/secret-scan.sh [repository]        (default: this repository)
#
# SLIPWAY_GITLEAKS_SARIF=<file>: also write the history findings as SARIF (the security workflow
# uploads it to code scanning).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="$(cd "${1:-$repo_root}" && pwd)"
say() { printf 'secret-scan: %s\n' "$*" >&2; }

gitleaks="${GITLEAKS_BIN:-}"
if [[ -z "$gitleaks" ]]; then
  read -r _ package version < <(grep -E '^gitleaks[[:space:]]' "$repo_root/tools/scripts/supply-chain-tools.txt")
  gitleaks="$(bash "$repo_root/tools/scripts/go-tool.sh" gitleaks "$package" "$version")"
fi
config=()
[[ -f "$target/.gitleaks.toml" ]] && config=(--config "$target/.gitleaks.toml")

git -C "$target" rev-parse --git-dir >/dev/null 2>&1 || {
  say "error: $target is not a git repository."
  exit 1
}

status=0
report=()
[[ -n "${SLIPWAY_GITLEAKS_SARIF:-}" ]] && report=(--report-format sarif --report-path "$SLIPWAY_GITLEAKS_SARIF")
say "history of $target ($(git -C "$target" rev-list --all --count) commits)"
"$gitleaks" git "${config[@]}" --redact --no-banner --log-level warn --verbose "${report[@]}" \
  --log-opts="--all" "$target" || status=1

tree="$(mktemp -d "${TMPDIR:-/tmp}/slipway-secret-scan.XXXXXX")"
trap 'rm -rf "$tree"' EXIT
# Files git would commit (tracked + untracked, minus ignored); deleted-but-tracked ones are skipped.
(cd "$target" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [[ -f "$file" ]] && printf '%s\0' "$file"; done |
  tar --null -T - -cf -) | tar -xf - -C "$tree"
say "working tree of $target ($(find "$tree" -type f | wc -l) files)"
"$gitleaks" dir "${config[@]}" --redact --no-banner --log-level warn --verbose "$tree" || status=1

if ((status == 0)); then
  say "no secrets found"
else
  say "secrets found (above, redacted): remove them, rotate them, and rewrite history if they were committed"
fi
exit "$status"
