#!/usr/bin/env bash
# Prints the shell command written in README.md between `<!-- NAME:start -->` and `<!-- NAME:end -->`
# (the fenced code block inside the markers; one command line). .ci/run uses it to run exactly the
# test command the README documents.
#
#   tools/scripts/readme-command.sh NAME [README]
set -euo pipefail

name="${1:-}"
readme="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md}"
[[ -n "$name" ]] || {
  echo "readme-command: usage: tools/scripts/readme-command.sh NAME [README]" >&2
  exit 2
}
[[ -f "$readme" ]] || {
  echo "readme-command: error: $readme does not exist." >&2
  exit 1
}

starts="$(grep -c -- "<!-- $name:start -->" "$readme" || true)"
ends="$(grep -c -- "<!-- $name:end -->" "$readme" || true)"
if [[ "$starts" != 1 || "$ends" != 1 ]]; then
  echo "readme-command: error: $readme must contain exactly one '<!-- $name:start -->' and one '<!-- $name:end -->' (found $starts and $ends)." >&2
  exit 1
fi

# Lines of the fenced block between the markers, without the fences and blank lines.
command="$(awk -v start="<!-- $name:start -->" -v end="<!-- $name:end -->" '
  index($0, start) { inside = 1; next }
  index($0, end) { inside = 0 }
  inside && /^```/ { fence = !fence; next }
  inside && fence && NF { print }
' "$readme")"

lines="$(printf '%s' "$command" | grep -c '' || true)"
if [[ "$lines" != 1 ]]; then
  echo "readme-command: error: the '$name' block in $readme must hold one command line in a fenced code block (found $lines lines)." >&2
  exit 1
fi
printf '%s\n' "$command"
