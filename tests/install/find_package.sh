#!/usr/bin/env bash
# murmur as a C++ library (issue #31): install the build into a prefix, build examples/cpp/
# against the installed package (find_package(murmur), murmur::murmur) and run both programs:
# one experiment, and a compressor and an algorithm registered from outside the tree.
#   find_package.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/lib/cmake/murmur/murmurConfig.cmake"
test -f "$work/prefix/include/murmur/run/runner.h"
cmake -S "$src/examples/cpp" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log"
cmake --build "$work/example" -j 2 >"$work/build.log"
"$work/example/run_experiment" "$src/configs/smoke.toml" "$work/run" 2>/dev/null | tee "$work/run.log"
grep -q "^final accuracy" "$work/run.log"
grep -q '"status": "finished"' "$work/run/summary.json"
"$work/example/own_plugins" "$src/configs/smoke.toml" "$work/plugins" | tee "$work/plugins.log"
grep -q "^choco: final accuracy" "$work/plugins.log"
grep -q "^uniform_gossip: final accuracy" "$work/plugins.log"
grep -q '"algorithm": "uniform_gossip"' "$work/plugins/uniform_gossip/summary.json"
echo "find_package(murmur): built and ran both examples"
