#!/usr/bin/env bash
# The longest functions in src/ (lines from signature to closing brace, by Universal Ctags),
# longest last. The schema's key table (src/run/schema.cc, Build) is data and left out.
#   scripts/longest_functions.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ctags >/dev/null || { echo "longest_functions.sh: needs ctags (apt-get install universal-ctags)" >&2; exit 2; }
ctags --c++-kinds=f --fields=+ne -o - -R src |
  awk -F'\t' '{ l = e = 0
    for (i = 4; i <= NF; i++) { if ($i ~ /^line:/) l = substr($i, 6); if ($i ~ /^end:/) e = substr($i, 5) }
    if ($2 !~ /schema\.cc$/) print e - l + 1, $2 ":" l, $1 }' |
  sort -n | tail -n "${1:-5}"
