"""murmur from Python: run experiments, read their results, write algorithms and compressors.

Build with `make build` (the extension lands in build/python), then, with Debian's
interpreter (it sees python3-numpy):

    PYTHONPATH=build/python /usr/bin/python3
    >>> import murmur
    >>> r = murmur.run("configs/smoke.toml", {"train.lr": 0.05}, out="runs/py")
    >>> r.summary["final_acc_mean"], r.evals["test_acc"][-8:]

The experiment runs in murmur's C++ core with Python's lock released (a Python algorithm's
or compressor's methods take it for their call only). docs/python.md has the walk-through and
the API reference. Errors are
murmur.ConfigError (a bad key or value; the message names it), murmur.DataError,
murmur.IoError, murmur.DivergenceError, all murmur.Error (a RuntimeError).
"""
import contextlib
import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from ._murmur import ConfigError, DataError, DivergenceError, Error, IoError  # noqa: F401
from . import _murmur

__all__ = ["run", "sweep", "compare", "topology", "list", "config_toml", "Run", "Topology",
           "Algorithm", "Compressor", "Error", "ConfigError", "DataError", "IoError",
           "DivergenceError"]


def _flatten(config: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """{"run": {"nodes": 8}, "train.lr": 0.1} -> {"run.nodes": 8, "train.lr": 0.1}."""
    out: Dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _split(config: Union[str, os.PathLike, Mapping[str, Any], None],
           overrides: Optional[Mapping[str, Any]]):
    """(path of a TOML file or "", the keys to set in order)."""
    keys: Dict[str, Any] = {}
    if config is None:
        path = ""
    elif isinstance(config, Mapping):
        path = ""
        keys.update(_flatten(config))
    else:
        path = os.fspath(config)
    keys.update(_flatten(overrides or {}))
    return path, keys


def _read_csv(path: str) -> Dict[str, Any]:
    """A murmur CSV file as column name -> NumPy array (float; empty cells are NaN)."""
    import numpy as np

    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    columns: Dict[str, Any] = {}
    for k, name in enumerate(header):
        values = [float(r[k]) if k < len(r) and r[k] != "" else float("nan") for r in rows]
        columns[name] = np.array(values, dtype=np.float64)
    return columns


class Run:
    """A finished run: its directory, summary.json, and metrics.csv / eval.csv as columns."""

    def __init__(self, out_dir: str, summary: Dict[str, Any]):
        self.out_dir = out_dir
        self.summary: Dict[str, Any] = summary
        self._metrics: Optional[Dict[str, Any]] = None
        self._evals: Optional[Dict[str, Any]] = None

    @property
    def metrics(self) -> Dict[str, Any]:
        """metrics.csv (one row per node per round): column name -> NumPy array."""
        if self._metrics is None:
            self._metrics = _read_csv(os.path.join(self.out_dir, "metrics.csv"))
        return self._metrics

    @property
    def evals(self) -> Dict[str, Any]:
        """eval.csv (one row per node per evaluation): column name -> NumPy array."""
        if self._evals is None:
            self._evals = _read_csv(os.path.join(self.out_dir, "eval.csv"))
        return self._evals

    def to_pandas(self, table: str = "evals"):
        """The metrics or evals table as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame(self.metrics if table == "metrics" else self.evals)

    def __repr__(self) -> str:
        return (f"Run({self.out_dir!r}, final_acc_mean={self.summary.get('final_acc_mean')}, "
                f"status={self.summary.get('status')!r})")


class Algorithm:
    """A decentralized algorithm written in Python; pass an instance to run(algorithm=...).

    Every round, after the nodes' local steps, murmur calls send() for every node, moves the
    messages through its transport (real bytes: counted, subject to faults, over MPI under
    mpirun), then receive() for every node. x is a NumPy float32 view of the node's flat
    parameter vector (no copy; valid during the call only): receive() updates it in place.

    send(ctx, round, node, x) returns None (nothing to send), one message for every out-peer,
    or a dict {peer: message}; a message is bytes or a NumPy array. receive(ctx, round,
    node, x, inbox) gets {sender: message} in sender-id order (a message lost to a fault is
    missing). ctx: nodes, dim, seed, rounds, phase, hosted, out_peers(round, node),
    in_peers(round, node), weights(round, node) -> {node: w, ...}, lr(round), and state[node],
    a dict kept between rounds (pickled into checkpoints). Set `phases` for several
    send/receive exchanges per round (ctx.phase tells which).
    """

    phases = 1

    def send(self, ctx, round, node, x):  # noqa: A002 (the round number)
        raise NotImplementedError("murmur.Algorithm.send")

    def receive(self, ctx, round, node, x, inbox):  # noqa: A002
        raise NotImplementedError("murmur.Algorithm.receive")


class Compressor:
    """A compressor written in Python; pass an instance to run(compressor=...) and the
    built-in compressed algorithms (choco, sparse_push, scsp, ...) use it for
    compression.name = "python" (set for you).

    compress(x, ctx) returns bytes for the read-only float32 vector x; ctx has ratio, levels,
    bits, threshold (compression.*), segments (lengths of the model's tensors in x) and
    seed() (a seed from the node's deterministic random stream). decompress(data, n) returns
    n float32 values, or (indices, values) for the coordinates it carries (the others are 0
    and, where algorithms add a message into a vector, untouched).
    """

    def compress(self, x, ctx) -> bytes:
        raise NotImplementedError("murmur.Compressor.compress")

    def decompress(self, data: bytes, n: int):
        raise NotImplementedError("murmur.Compressor.decompress")


def _scripted_module(model, stack):
    """model (a torch.nn.Module or a scripted one) saved as TorchScript to a file named by its
    content hash in the temporary directory (the same module gives the same path, so a run
    resumes with it), removed when `stack` closes."""
    import hashlib
    import io
    import tempfile

    import torch

    scripted = model if isinstance(model, torch.jit.ScriptModule) else torch.jit.script(model)
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    data = buffer.getvalue()
    path = os.path.join(tempfile.gettempdir(),
                        f"murmur-module-{hashlib.sha256(data).hexdigest()[:24]}.pt")
    # Written under a private name, then renamed: processes of one job (mpirun) that write
    # the same module at once each see a whole file.
    fd, partial = tempfile.mkstemp(prefix="murmur-module-", suffix=".partial")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(partial, path)
    stack.callback(lambda: os.path.exists(path) and os.remove(path))
    return path


def run(config: Union[str, os.PathLike, Mapping[str, Any], None] = None,
        overrides: Optional[Mapping[str, Any]] = None, out: Optional[str] = None,
        progress: Optional[Callable[[Dict[str, Any]], Any]] = None, *,
        algorithm: Optional[Algorithm] = None, compressor: Optional[Compressor] = None,
        model=None, quiet: bool = True, overwrite: bool = False, resume: bool = False) -> Run:
    """Runs one experiment.

    config: a TOML file, or a dict of the same keys ({"run": {"nodes": 8}} or
    {"run.nodes": 8}), or None for every default (with resume: out's config.toml).
    overrides: keys applied after it, like `murmur run --set`. out: the run directory
    (default: output.dir, else runs/<time>-<algorithm>); overwrite replaces a previous run's
    files there; resume continues out's unfinished run from its newest checkpoint.

    progress(figures) is called after every round with a dict: round, rounds, lr, loss,
    mb_sent_per_node, sim_seconds, evaluated, and after an evaluation acc_mean, acc_min,
    acc_max, acc_avg_model, consensus. Returning False stops the run cleanly: a checkpoint
    of the rounds done is written and the Run returned has status "stopped" (resume=True
    continues it). Ctrl-C does the same, then raises KeyboardInterrupt.

    algorithm / compressor: a murmur.Algorithm / murmur.Compressor instance (sets
    algorithm.name / compression.name to "python"). model: a torch.nn.Module (scripted with
    torch.jit.script) or a scripted module, trained as model.name = "torchscript"; its
    temporary file is removed when the run ends.
    """
    if resume and config is None and out:
        config = os.path.join(out, "config.toml")
    path, keys = _split(config, overrides)
    if algorithm is not None:
        if not isinstance(algorithm, Algorithm):
            raise TypeError("murmur.run: algorithm must be a murmur.Algorithm instance")
        keys["algorithm.name"] = "python"
    if compressor is not None:
        if not isinstance(compressor, Compressor):
            raise TypeError("murmur.run: compressor must be a murmur.Compressor instance")
        keys["compression.name"] = "python"
    with contextlib.ExitStack() as stack:
        if model is not None:
            keys["model.name"] = "torchscript"
            keys["model.path"] = _scripted_module(model, stack)
        status, out_dir, summary, checkpoint, done = _murmur.run(
            path, keys, out or "", quiet, overwrite, resume, progress, algorithm, compressor)
    if status == "stopped":
        return Run(out_dir, {"status": "stopped", "rounds_done": done, "checkpoint": checkpoint})
    if not summary:  # under mpirun, on ranks other than 0 (rank 0 writes the outputs)
        return Run(out_dir, {"status": "finished"})
    return Run(out_dir, json.loads(summary))


def sweep(path: Union[str, os.PathLike], quiet: bool = True, dry_run: bool = False,
          only: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Runs SWEEP.toml's grid like `murmur sweep` (complete points are skipped, interrupted
    ones rerun); returns out_dir, points, ran, skipped, diverged, failed and point_names."""
    return _murmur.sweep(os.fspath(path), quiet, dry_run, [str(p) for p in (only or [])])


def compare(*dirs: Union[str, os.PathLike], target: float = -1.0,
            reference: str = "") -> List[Dict[str, str]]:
    """The rows of `murmur compare DIR...` (run directories, or directories of runs such as a
    sweep's): one dict per row, column header -> cell text, with "problem" naming the table
    when the runs are of several problems. target / reference as the command's options."""
    text = _murmur.compare_markdown([os.fspath(d) for d in dirs], target, reference)
    rows: List[Dict[str, str]] = []
    header: Optional[List[str]] = None
    problem = ""
    for line in text.splitlines():
        if line.startswith("#"):
            problem = line.lstrip("# ").strip()
            header = None
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not all(set(c) <= set("-: ") for c in cells):
                row = dict(zip(header, cells))
                if problem:
                    row["problem"] = problem
                rows.append(row)
    return rows


class Topology:
    """A topology as murmur builds it: name, directed, nodes, graphs (one (edges, W) pair per
    graph of its period; edges as (i, j) pairs, i < j when undirected; W[i, j] the weight node
    i gives node j's vector), edges and weights (of the first graph), spectral_gap."""

    def __init__(self, name, directed, graphs, spectral_gap):
        self.name = name
        self.directed = directed
        self.graphs = [(edges, weights) for edges, weights in graphs]
        self.edges, self.weights = self.graphs[0]
        self.nodes = self.weights.shape[0]
        self.spectral_gap = spectral_gap

    def __repr__(self) -> str:
        return (f"Topology({self.name!r}, nodes={self.nodes}, edges={len(self.edges)}, "
                f"period={len(self.graphs)}, spectral_gap={self.spectral_gap:.4g})")


def topology(name: str, nodes: int, **keys: Any) -> Topology:
    """The topology `name` on `nodes` nodes; keys are topology.* settings without the prefix
    (degree=4, weights="metropolis_hastings", directed=True, seed=...; seed is run.seed)."""
    settings: Dict[str, Any] = {"topology.name": name, "run.nodes": nodes}
    for key, value in keys.items():
        settings["run.seed" if key == "seed" else f"topology.{key}"] = value
    return Topology(*_murmur.topology(settings))


def config_toml(config: Union[str, os.PathLike, Mapping[str, Any], None] = None,
                overrides: Optional[Mapping[str, Any]] = None) -> str:
    """The resolved configuration, every key written out, as run() would use it."""
    path, keys = _split(config, overrides)
    return _murmur.config_toml(path, keys)


def list() -> Dict[str, Dict[str, str]]:  # noqa: A001 (murmur.list(), as `murmur list`)
    """Every registered component: kind -> {name: one line of help}; kinds are algorithm,
    topology, model, dataset, partitioner, compressor."""
    out: Dict[str, Dict[str, str]] = {}
    for kind, name, help_text in _murmur.components():
        out.setdefault(kind, {})[name] = help_text
    return out
