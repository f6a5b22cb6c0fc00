"""Runs a Python algorithm (D-PSGD) and CHOCO with a Python compressor (top-k), with message
loss, and the Python D-PSGD stopped by a progress callback and resumed (under mpirun only),
into OUT/<case>-<MODE>: once in process, once under mpirun, for mpi_same.sh to compare.
    mpi_runs.py SOURCE_DIR OUT MODE"""
import os
import sys

source, out, mode = sys.argv[1:4]
sys.path.insert(0, os.path.join(source, "examples", "python"))
import murmur  # noqa: E402
from my_algorithms import PythonDpsgd, PythonTopK  # noqa: E402

smoke = os.path.join(source, "configs", "smoke.toml")
keys = {"run.rounds": 12, "output.eval_every": 4, "network.seconds_per_sample": 2e-5,
        "faults.loss": 0.1}
murmur.run(smoke, keys, out=f"{out}/python_dpsgd-{mode}", algorithm=PythonDpsgd())
murmur.run(smoke, dict(keys, **{"algorithm.name": "choco", "algorithm.gamma": 0.3,
                                "compression.ratio": 0.1}),
           out=f"{out}/choco_python_topk-{mode}", compressor=PythonTopK())
# Stopped by the progress callback (called on rank 0 only; every rank stops) after 5 rounds,
# then resumed: the files of the uninterrupted in-process run.
stop = (lambda f: f["round"] < 4) if mode == "mpi" else None
r = murmur.run(smoke, keys, out=f"{out}/stopped_resumed-{mode}", progress=stop,
               algorithm=PythonDpsgd())
if mode == "mpi":
    assert r.summary["status"] == "stopped" and r.summary["rounds_done"] == 5, r.summary
    murmur.run(out=f"{out}/stopped_resumed-{mode}", resume=True, algorithm=PythonDpsgd())
