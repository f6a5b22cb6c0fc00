#!/usr/bin/env bash
# A Python algorithm and a Python compressor under `mpirun -np RANKS python3` give the files of
# the in-process run (tests/mpi/compare.sh): their messages cross processes as MPI frames.
#   mpi_same.sh PYTHON SOURCE_DIR WORK_DIR [RANKS]   (PYTHONPATH names build/python)
set -euo pipefail
python=$1 src=$2 work=$3 ranks=${4:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
export OMPI_MCA_rmaps_base_oversubscribe=1                      # more ranks than cores
export OMPI_MCA_btl_vader_single_copy_mechanism=none            # containers forbid CMA
rm -rf "$work" && mkdir -p "$work"
"$python" "$src/tests/python/mpi_runs.py" "$src" "$work" inproc
mpirun -np "$ranks" -x PYTHONPATH "$python" "$src/tests/python/mpi_runs.py" "$src" "$work" mpi
source "$src/tests/mpi/compare.sh"
fail=0
for name in python_dpsgd choco_python_topk stopped_resumed; do
  grep -q '"transport": "mpi"' "$work/$name-mpi/summary.json" || { echo "FAIL $name: not MPI"; fail=1; }
  compare_runs "$name" "$work/$name-inproc" "$work/$name-mpi"
done
[[ $fail == 0 ]] && echo "python under mpirun -np $ranks: same files as in process"
exit $fail
