"""murmur from Python: run experiments and read their results.

Build with `make build` (the extension lands in build/python), then, with Debian's
interpreter (it sees python3-numpy):

    PYTHONPATH=build/python /usr/bin/python3
    >>> import murmur
    >>> r = murmur.run("configs/smoke.toml", {"train.lr": 0.05}, out="runs/py")
    >>> r.summary["final_acc_mean"], r.evals["test_acc"][-8:]

The experiment runs in murmur's C++ core with Python's lock released. Errors are
murmur.ConfigError (a bad key or value; the message names it), murmur.DataError,
murmur.IoError, murmur.DivergenceError, all murmur.Error (a RuntimeError).
"""
import json
import os
from typing import Any, Dict, Mapping, Optional, Union

from ._murmur import ConfigError, DataError, DivergenceError, Error, IoError  # noqa: F401
from . import _murmur

__all__ = ["run", "list", "config_toml", "Run", "Error", "ConfigError", "DataError", "IoError",
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

    def __init__(self, out_dir: str, summary_json: str):
        self.out_dir = out_dir
        self.summary: Dict[str, Any] = json.loads(summary_json)
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


def run(config: Union[str, os.PathLike, Mapping[str, Any], None] = None,
        overrides: Optional[Mapping[str, Any]] = None, out: Optional[str] = None,
        quiet: bool = True, overwrite: bool = False) -> Run:
    """Runs one experiment.

    config: a TOML file, or a dict of the same keys ({"run": {"nodes": 8}} or
    {"run.nodes": 8}), or None for every default. overrides: keys applied after it, like
    `murmur run --set`. out: the run directory (default: output.dir, else runs/<time>-<algo>);
    overwrite replaces a previous run's files there. Returns a Run.
    """
    path, keys = _split(config, overrides)
    out_dir, summary = _murmur.run(path, keys, out or "", quiet, overwrite)
    return Run(out_dir, summary)


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
