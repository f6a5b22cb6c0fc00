"""The Python package (issue #31, first part): murmur.run with a TOML file or a dict and
overrides, the Run object's summary and columns, murmur.list(), and errors as exceptions.
Run by ctest (python.pytest) with PYTHONPATH=build/python and Debian's /usr/bin/python3."""
import json
import os

import numpy as np
import pytest

import murmur

SOURCE = os.environ.get("MURMUR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SMOKE = os.path.join(SOURCE, "configs", "smoke.toml")
SMALL = {"run.rounds": 4, "run.nodes": 4, "output.eval_every": 2}


def test_run_from_a_file_equals_the_command_line_run(tmp_path):
    r = murmur.run(SMOKE, SMALL, out=str(tmp_path / "py"))
    assert r.out_dir == str(tmp_path / "py")
    assert r.summary["status"] == "finished"
    assert r.summary["nodes"] == 4
    # The columns are metrics.csv's and eval.csv's, as NumPy arrays.
    assert set(r.metrics) >= {"round", "node", "train_loss", "bytes_sent"}
    assert len(r.metrics["round"]) == 4 * 4
    assert isinstance(r.evals["test_acc"], np.ndarray)
    assert r.evals["test_acc"][-4:].mean() == pytest.approx(r.summary["final_acc_mean"])
    with open(tmp_path / "py" / "summary.json") as f:
        assert json.load(f) == r.summary


def test_a_dict_config_is_the_same_as_its_toml(tmp_path):
    nested = {"run": {"nodes": 4, "rounds": 4}, "data": {"name": "synthetic"},
              "model": {"name": "mlp", "mlp_hidden": 16}, "output": {"eval_every": 2}}
    flat = {"run.nodes": 4, "run.rounds": 4, "data.name": "synthetic", "model.name": "mlp",
            "model.mlp_hidden": 16, "output.eval_every": 2}
    assert murmur.config_toml(nested) == murmur.config_toml(flat)
    a = murmur.run(nested, out=str(tmp_path / "a"))
    b = murmur.run(None, flat, out=str(tmp_path / "b"))
    with open(tmp_path / "a" / "metrics.csv") as fa, open(tmp_path / "b" / "metrics.csv") as fb:
        assert fa.read() == fb.read()
    assert a.summary["final_acc_mean"] == b.summary["final_acc_mean"]


def test_overrides_apply_after_the_config():
    toml = murmur.config_toml(SMOKE, {"train.lr": 0.025, "train.lr_decay_rounds": [3, 5],
                                      "output.acc_targets": [0.5, 1]})
    assert "lr = 0.025" in toml
    assert "lr_decay_rounds = [3, 5]" in toml


def test_errors_are_exceptions_naming_the_key(tmp_path):
    with pytest.raises(murmur.ConfigError, match="unknown key 'train.lrr'; did you mean 'train.lr'"):
        murmur.run(SMOKE, {"train.lrr": 0.1})
    with pytest.raises(murmur.ConfigError, match="train.lr: expected a number, got str"):
        murmur.run(SMOKE, {"train.lr": "fast"})
    with pytest.raises(murmur.ConfigError, match="run.nodes: expected an int, got float"):
        murmur.run(SMOKE, {"run.nodes": 4.5})
    with pytest.raises(murmur.DataError, match="not a directory"):
        murmur.run(SMOKE, {"data.name": "npy", "data.path": str(tmp_path / "none")})
    with pytest.raises(murmur.IoError):
        murmur.run(str(tmp_path / "missing.toml"))
    assert issubclass(murmur.ConfigError, murmur.Error)
    assert issubclass(murmur.Error, RuntimeError)


def test_list_names_every_kind():
    components = murmur.list()
    assert set(components) == {"algorithm", "topology", "model", "dataset", "partitioner",
                               "compressor"}
    assert "dpsgd" in components["algorithm"]
    assert "torchscript" in components["model"]
    assert "natural" in components["partitioner"]
    assert "topk" in components["compressor"]


def test_an_asynchronous_run_reports_simulated_windows_and_resumes_after_a_stop(tmp_path):
    event = dict(SMALL, **{"sim.mode": "event", "sim.window_s": 0.05, "algorithm.name": "adpsgd",
                           "network.seconds_per_sample": 0.001, "energy.compute_watts": 1.0})
    seen = []
    r = murmur.run(SMOKE, event, out=str(tmp_path / "async"), progress=seen.append)
    assert [f["round"] for f in seen] == [0, 1, 2, 3]
    assert [f["sim_seconds"] for f in seen] == pytest.approx([0.05, 0.1, 0.15, 0.2])
    assert r.summary["sim_mode"] == "event" and r.summary["staleness_max"] >= 1
    assert r.summary["energy_j_compute"] > 0
    assert set(r.metrics) >= {"online_s", "busy_s", "energy_j", "staleness_mean"}
    stopped = murmur.run(SMOKE, event, out=str(tmp_path / "stop"),
                         progress=lambda f: f["round"] < 1)
    assert stopped.summary["status"] == "stopped" and os.path.exists(stopped.summary["checkpoint"])
    resumed = murmur.run(out=str(tmp_path / "stop"), resume=True)
    for name in ("metrics.csv", "eval.csv"):
        with open(tmp_path / "async" / name) as a, open(tmp_path / "stop" / name) as b:
            assert a.read() == b.read()
    assert resumed.summary["final_acc_mean"] == r.summary["final_acc_mean"]
