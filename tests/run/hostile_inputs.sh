#!/usr/bin/env bash
# The command line against inputs a careful adversarial user tries (issue #28): a directory
# as a config, --overwrite over a run and then SIGKILL, a second process on a run directory,
# a rerun after an interruption, a diverging run, error lines with and without --verbose, and
# (issue #30) a model file or dataset that is not what it claims.
#   hostile_inputs.sh MURMUR SOURCE_DIR WORK_DIR
set -uo pipefail
murmur=$1 src=$2 work=$3
smoke=$src/configs/smoke.toml
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail=0
check() {  # check NAME CONDITION...: records a failure when the condition does not hold
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}
has() { grep -qF -- "$2" "$1"; }

# 1. A directory is not an (empty) config: an error naming it, exit 1, nothing run.
"$murmur" run "$src/configs" --out d0 >out0.log 2>&1
rc=$?
check "config directory: exit 1" test "$rc" -eq 1
check "config directory: named" has out0.log "$src/configs: the config file is a directory"
check "config directory: nothing ran" test ! -e d0

# 2. --overwrite over a finished run, killed early: only the new run is left, and it resumes.
# Waits (up to 30 s) until run directory $1 holds a checkpoint.
await_checkpoint() {
  for _ in $(seq 300); do
    [[ -n "$(ls "$1/checkpoints" 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  return 1
}
long=(--set run.rounds=5000 --set output.checkpoint_every=100 --set output.eval_every=0)
"$murmur" run "$smoke" --out d1 -q "${long[@]}" --set run.rounds=2000
"$murmur" run "$smoke" --out d1 --overwrite -q "${long[@]}" --set train.lr=0.05 &
second=$!
# The old run left round-1800 and round-1900: wait for the new run's first checkpoint.
for _ in $(seq 300); do
  first_ckpt=$(ls d1/checkpoints 2>/dev/null | sort | head -1)
  [[ -n "$first_ckpt" && "$first_ckpt" < round-00001800.ckpt ]] && break
  sleep 0.1
done
kill -KILL "$second"
wait "$second"
check "overwrite: the old summary is gone" test ! -e d1/summary.json
newest=$(ls d1/checkpoints | sort | tail -1)
check "overwrite: the checkpoints are the new run's ($newest)" \
  test "$newest" \< round-00001800.ckpt
check "overwrite: the config is the new run's" grep -q "lr = 0.05" d1/config.toml
"$murmur" run --resume d1 -q >resume.log 2>&1
check "overwrite: the new run resumes to its end" test -e d1/summary.json
check "overwrite: ... with the new config" grep -q '"status": "finished"' d1/summary.json

# 3. One process per run directory: a second one is refused while the first runs.
"$murmur" run "$smoke" --out d2 -q "${long[@]}" --set run.rounds=100000 &
first=$!
for _ in $(seq 100); do [[ -s d2/metrics.csv ]] && break; sleep 0.1; done
"$murmur" run --resume d2 >lock.log 2>&1
check "lock: refused" has lock.log "d2: another murmur process is running in this directory"

# 4. Rerunning an interrupted run without --resume says it is unfinished and how to go on.
# (SIGTERM: a background job of a script ignores SIGINT, Ctrl-C's signal.)
await_checkpoint d2
kill -TERM "$first"
wait "$first"
"$murmur" run "$smoke" --out d2 >rerun.log 2>&1
check "rerun: says unfinished and --resume" has rerun.log \
  "d2 already holds an unfinished run (newest checkpoint round-"
check "rerun: names the resume command" has rerun.log "\`murmur run --resume d2\` continues it"

# 5. A diverged run: exit 3, its own error kind, summary.json says so.
"$murmur" run "$smoke" --out d3 --set train.lr=1e30 --set train.momentum=0 >div.log 2>&1
rc=$?
check "divergence: exit 3" test "$rc" -eq 3
check "divergence: the error line" has div.log "murmur: training diverged: node"
check "divergence: recorded" grep -q '"status": "diverged"' d3/summary.json

# 6. The source location is for --verbose only.
"$murmur" run "$smoke" --set train.lrr=1 >plain.log 2>&1
"$murmur" run "$smoke" --set train.lrr=1 --verbose >verbose.log 2>&1
check "no source location by default" bash -c "! grep -q '(src/' plain.log"
check "source location with --verbose" has verbose.log "(src/run/"

# 7. A hand-written config.toml in the output directory is never replaced.
mkdir -p d4 && echo "# mine" >d4/config.toml
"$murmur" run "$smoke" --out d4 --overwrite >mine.log 2>&1
check "foreign config.toml: refused" has mine.log "d4/config.toml was not written by murmur"
check "foreign config.toml: untouched" test "$(cat d4/config.toml)" = "# mine"

# 8. Your own model and data, wrong: exit 2 or 1 with a line naming the file, nothing run.
echo "not a model" >notes.pt
"$murmur" run "$smoke" --out d5 --set model.name=torchscript --set model.path=notes.pt >ts.log 2>&1
rc=$?
check "torchscript: not an archive, exit 2" test "$rc" -eq 2
check "torchscript: named" has ts.log "model.path 'notes.pt': not a TorchScript archive"
check "torchscript: nothing ran" test ! -e d5/metrics.csv
"$murmur" run "$smoke" --out d6 --set model.name=torchscript \
  --set "model.path=$src/tests/fixtures/lenet5.pt" >shape.log 2>&1
check "torchscript: input shapes named" has shape.log \
  "the data gives [B, 1, 12, 12] float32; the module said: RuntimeError: mat1 and mat2"
mkdir -p npy && printf '\x93NUMPY\x01\x00\x10\x00{garbage}      \n' >npy/train_x.npy
for f in train_y test_x test_y; do cp npy/train_x.npy npy/$f.npy; done
"$murmur" run "$smoke" --out d7 --set data.name=npy --set data.path=npy >npy.log 2>&1
rc=$?
check "npy: bad header, exit 1" test "$rc" -eq 1
check "npy: named" has npy.log "npy/train_x.npy: bad .npy header"
mkdir -p leaf/train leaf/test && echo '{"user_data": {"u": {"x": [[0.5' >leaf/train/a.json
"$murmur" run "$smoke" --out d8 --set data.name=leaf --set data.path=leaf >leaf.log 2>&1
check "leaf: truncated JSON named" has leaf.log "leaf/train/a.json: not valid JSON at byte"
"$murmur" evaluate notes.pt --config "$smoke" >eval.log 2>&1
check "evaluate: a file that is not a state_dict" has eval.log \
  "notes.pt: cannot be read as a state_dict file"

exit $fail
