#!/usr/bin/env bash
# The README's "Compare algorithms in 5 minutes" table and picture come from this command, so
# they cannot drift from what murmur computes:
#   scripts/readme_tables.sh --write [BUILD_DIR]   runs the sweep, rewrites the table between
#                                                  the compare5 markers and docs/img/compare5.png
#   scripts/readme_tables.sh --check [BUILD_DIR]   runs the sweep and fails when the README's
#                                                  table differs from `murmur compare` (a test)
# The runs are deterministic for the same binary, BLAS and seed (docs/output.md), so a
# difference means results changed and the README must be regenerated with --write.
set -euo pipefail
mode=${1:-}
build=$(cd "${2:-build}" && pwd)
cd "$(dirname "$0")/.."
[[ $mode == --write || $mode == --check ]] || {
  echo "usage: scripts/readme_tables.sh --write|--check [BUILD_DIR]" >&2
  exit 2
}
runs=$build/readme-compare5
rm -rf "$runs"
# The shipped sweep file, with its runs under the build directory.
sed "s|^out = .*|out = \"$runs\"|" configs/paper/compare5.sweep.toml >"$build/compare5.sweep.toml"
sed -i "s|^base = \"|base = \"$PWD/configs/paper/|" "$build/compare5.sweep.toml"
"$build/murmur" sweep "$build/compare5.sweep.toml" --quiet
"$build/murmur" compare "$runs" >"$build/compare5.md"

# The README's table sits between these two lines.
begin='<!-- compare5:begin (scripts/readme_tables.sh --write) -->'
end='<!-- compare5:end -->'
current=$(awk -v b="$begin" -v e="$end" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' README.md)
generated=$(cat "$build/compare5.md")
if [[ $mode == --check ]]; then
  if [[ "$current" != "$generated" ]]; then
    echo "README.md's compare5 table differs from murmur compare's; run scripts/readme_tables.sh --write" >&2
    diff <(echo "$current") <(echo "$generated") >&2 || true
    exit 1
  fi
  echo "README.md's compare5 table matches murmur compare"
  exit 0
fi
grep -qxF "$begin" README.md && grep -qxF "$end" README.md || {
  echo "README.md lacks the compare5 markers" >&2
  exit 1
}
awk -v b="$begin" -v e="$end" -v table="$build/compare5.md" '
  $0 == e { skip = 0 }
  !skip { print }
  $0 == b { while ((getline line < table) > 0) print line; skip = 1 }
' README.md >"$build/README.md.new"
mv "$build/README.md.new" README.md
# The picture: the README's own command (default title), written into docs/img.
"$build/murmur" plot "$runs" --x bytes --out docs/img/compare5.png >/dev/null
rm -f docs/img/compare5.png.gp
echo "README.md table and docs/img/compare5.png regenerated"
