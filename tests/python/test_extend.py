"""Algorithms and compressors written in Python, progress callbacks and clean stops, Ctrl-C,
torch modules, sweep / compare / topology (issue #31). Run by ctest (python.pytest)."""
import glob
import math
import os
import signal
import sys
import tempfile

import numpy as np
import pytest

import murmur

SOURCE = os.environ.get("MURMUR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "examples", "python"))
from my_algorithms import PythonDpsgd, PythonTopK  # noqa: E402 (the documented examples)

SMOKE = os.path.join(SOURCE, "configs", "smoke.toml")
SMALL = {"run.rounds": 6, "run.nodes": 6, "output.eval_every": 2}


def columns_close(a, b, names, rtol=1e-4, atol=1e-6):
    for name in names:
        np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("faults", [{}, {"faults.loss": 0.2, "faults.crash": "2@3"}])
def test_dpsgd_in_python_gives_the_built_in_metrics(tmp_path, faults):
    keys = dict(SMALL, **faults)
    builtin = murmur.run(SMOKE, keys, out=str(tmp_path / "builtin"))
    mine = murmur.run(SMOKE, keys, out=str(tmp_path / "python"), algorithm=PythonDpsgd())
    assert mine.summary["algorithm"] == "python"
    columns_close(builtin.metrics, mine.metrics, ["train_loss"])
    columns_close(builtin.evals, mine.evals, ["test_acc", "test_loss", "consensus_distance"])
    # Real frames went through the transport: the same number (faults drop the same ones),
    # each a few header bytes heavier (the array's dtype and shape), priced by the network
    # model like any other.
    for key in ("messages", "messages_received", "messages_dropped"):
        np.testing.assert_array_equal(builtin.metrics[key], mine.metrics[key])
    assert mine.summary["messages_total"] == builtin.summary["messages_total"]
    ratio = mine.summary["bytes_sent_total"] / builtin.summary["bytes_sent_total"]
    assert 1.0 < ratio < 1.01
    assert not faults or mine.metrics["messages_dropped"].sum() > 0
    assert mine.summary["sim_seconds"] == pytest.approx(builtin.summary["sim_seconds"], rel=0.01)


def test_choco_with_a_python_top_k_gives_the_built_in_top_k(tmp_path):
    keys = dict(SMALL, **{"algorithm.name": "choco", "algorithm.gamma": 0.4,
                          "compression.ratio": 0.1})
    builtin = murmur.run(SMOKE, dict(keys, **{"compression.name": "topk"}),
                         out=str(tmp_path / "builtin"))
    mine = murmur.run(SMOKE, keys, out=str(tmp_path / "python"), compressor=PythonTopK())
    columns_close(builtin.metrics, mine.metrics, ["train_loss"])
    columns_close(builtin.evals, mine.evals, ["test_acc", "test_loss", "consensus_distance"])
    assert mine.summary["messages_total"] == builtin.summary["messages_total"]


def test_a_python_compressor_decodes_what_it_encodes():
    x = np.array([0.5, -3.0, 0.1, 2.0], dtype=np.float32)

    class Ctx:
        ratio, segments = 0.5, [4]

    c = PythonTopK()
    idx, vals = c.decompress(c.compress(x, Ctx()), 4)
    assert list(idx) == [1, 3] and list(vals) == [-3.0, 2.0]


class CountingDpsgd(PythonDpsgd):
    """D-PSGD that counts its rounds in ctx.state: a lost state after a resume fails."""

    def send(self, ctx, round, node, x):
        ctx.state[node]["rounds"] = ctx.state[node].get("rounds", 0) + 1
        assert ctx.state[node]["rounds"] == round + 1, "state lost"
        return x


def test_progress_sees_every_round_and_false_stops_resumably(tmp_path):
    seen = []

    def progress(f):
        seen.append(f)
        return f["round"] < 2  # stop after round 2

    out = str(tmp_path / "run")
    keys = dict(SMALL, **{"output.checkpoint_every": 4})
    r = murmur.run(SMOKE, keys, out=out, progress=progress, algorithm=CountingDpsgd())
    assert r.summary["status"] == "stopped" and r.summary["rounds_done"] == 3
    assert r.out_dir == out
    assert os.path.exists(r.summary["checkpoint"])
    assert not os.path.exists(os.path.join(out, "summary.json"))
    assert [f["round"] for f in seen] == [0, 1, 2]
    assert seen[1]["evaluated"] and 0 <= seen[1]["acc_mean"] <= 1
    assert not seen[0]["evaluated"] and seen[2]["mb_sent_per_node"] > 0
    # Resumed, the run is the one it would have been without the stop.
    resumed = murmur.run(out=out, resume=True, algorithm=CountingDpsgd())
    whole = murmur.run(SMOKE, keys, out=str(tmp_path / "whole"), algorithm=CountingDpsgd())
    assert resumed.summary["status"] == "finished"
    assert resumed.summary["final_acc_mean"] == whole.summary["final_acc_mean"]
    np.testing.assert_array_equal(resumed.metrics["train_loss"], whole.metrics["train_loss"])


def test_ctrl_c_stops_cleanly_and_raises_keyboard_interrupt(tmp_path):
    def progress(f):
        if f["round"] == 1:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C would

    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt, match="stopped after 2 rounds"):
        murmur.run(SMOKE, SMALL, out=out, progress=progress)
    assert glob.glob(os.path.join(out, "checkpoints", "*"))
    r = murmur.run(out=out, resume=True)
    assert r.summary["status"] == "finished"


def test_a_stopped_run_names_the_directory_it_chose(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default directory is runs/<time>-<algorithm> under it
    r = murmur.run(SMOKE, SMALL, progress=lambda f: False)
    assert r.summary["status"] == "stopped" and r.out_dir.startswith("runs/")
    assert os.path.isdir(tmp_path / r.out_dir)
    assert murmur.run(out=r.out_dir, resume=True).summary["status"] == "finished"


def test_a_progress_callback_that_raises_stops_the_run_and_raises(tmp_path):
    def progress(f):
        raise ValueError("enough")

    with pytest.raises(ValueError, match="enough"):
        murmur.run(SMOKE, SMALL, out=str(tmp_path / "run"), progress=progress)


def test_python_plug_in_errors_name_the_method(tmp_path):
    class ToStranger(PythonDpsgd):
        def send(self, ctx, round, node, x):
            return {(node + 3) % ctx.nodes: x}

    with pytest.raises(murmur.Error, match=r"ToStranger.send \(round 0, node 0\) returned a "
                                           r"message for node 3, which is not an out-peer"):
        murmur.run(SMOKE, SMALL, out=str(tmp_path / "a"), algorithm=ToStranger())

    class Broken(PythonDpsgd):
        def receive(self, ctx, round, node, x, inbox):
            raise ValueError("my bug")

    with pytest.raises(murmur.Error, match=r"Broken.receive \(round 0, node \d\) raised "
                                           r"ValueError: my bug"):
        murmur.run(SMOKE, SMALL, out=str(tmp_path / "b"), algorithm=Broken())
    with pytest.raises(murmur.ConfigError, match=r"algorithm.name = \"python\" needs "
                                                 r"murmur.run\(algorithm=...\)"):
        murmur.run(SMOKE, dict(SMALL, **{"algorithm.name": "python"}), out=str(tmp_path / "c"))
    with pytest.raises(TypeError):
        murmur.run(SMOKE, SMALL, algorithm=object())


def test_topology_gives_edges_weights_and_the_spectral_gap():
    t = murmur.topology("ring", 8)
    assert t.nodes == 8 and len(t.edges) == 8 and not t.directed
    assert (0, 1) in t.edges and (0, 7) in t.edges
    np.testing.assert_allclose(t.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(t.weights, t.weights.T)
    # Metropolis-Hastings on a ring: 1/3 everywhere; second eigenvalue 1/3 + 2/3 cos(2 pi / 8).
    assert t.spectral_gap == pytest.approx(1 - (1 / 3 + 2 / 3 * math.cos(math.pi / 4)), abs=1e-5)
    eigenvalues = np.sort(np.abs(np.linalg.eigvalsh(t.weights)))
    assert t.spectral_gap == pytest.approx(1 - eigenvalues[-2], abs=1e-5)
    r = murmur.topology("regular", 16, degree=4, seed=3)
    assert len(r.edges) == 16 * 4 // 2
    with pytest.raises(murmur.ConfigError, match="topology.degree"):
        murmur.topology("regular", 16, degree="four")


def test_sweep_and_compare_return_rows(tmp_path):
    sweep_file = tmp_path / "grid.sweep.toml"
    sweep_file.write_text(f'base = "{SMOKE}"\nout = "{tmp_path / "grid"}"\n\n[set]\n'
                          '"run.rounds" = 4\n"run.nodes" = 4\n\n[grid]\n'
                          '"train.lr" = [0.05, 0.1]\n')
    s = murmur.sweep(sweep_file)
    assert s["points"] == 2 and s["ran"] == 2 and s["failed"] == 0
    rows = murmur.compare(s["out_dir"])
    assert len(rows) == 2
    assert {r["run"].replace(" (reference)", "") for r in rows} == {"lr=0.05", "lr=0.1"}
    assert all(0 <= float(r["final acc mean"]) <= 1 for r in rows)
    assert murmur.sweep(sweep_file)["skipped"] == 2


def test_a_torch_module_trains_and_leaves_no_file(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(144, 16)  # synthetic data: 1 x 12 x 12
            self.fc2 = torch.nn.Linear(16, 10)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x.flatten(1))))

    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "murmur-module-*")))
    r = murmur.run(SMOKE, SMALL, out=str(tmp_path / "run"), model=Net())
    assert r.summary["status"] == "finished"
    assert r.summary["final_acc_mean"] > 0.2
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "murmur-module-*"))) == before
    assert os.path.exists(tmp_path / "run" / "model.pt")


def test_python_threads_run_while_murmur_trains(tmp_path):
    """The run holds no GIL (only Python plug-ins' calls take it): a Python thread keeps
    running during the rounds, i.e. between one progress call's end and the next one's start.
    Were the lock held for a round, no tick could fall inside it."""
    import threading
    import time

    ticks, calls, done = [], [], threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.0005)

    def progress(f):
        calls.append(time.monotonic())

    t = threading.Thread(target=tick)
    t.start()
    try:
        murmur.run(SMOKE, dict(SMALL, **{"run.rounds": 12}), out=str(tmp_path / "run"),
                   progress=progress)
    finally:
        done.set()
        t.join()
    ticks = np.array(ticks)
    inside = [np.any((ticks > a) & (ticks < b)) for a, b in zip(calls, calls[1:])]
    assert sum(inside) >= len(inside) // 2, inside


def test_bad_messages_and_payloads_are_errors_not_crashes(tmp_path):
    class SendsText(PythonDpsgd):
        def send(self, ctx, round, node, x):
            return "hello"

    with pytest.raises(murmur.Error, match="a message is bytes or a NumPy array, got str"):
        murmur.run(SMOKE, SMALL, out=str(tmp_path / "a"), algorithm=SendsText())

    class SendsObjects(PythonDpsgd):
        def send(self, ctx, round, node, x):
            return np.array([object()], dtype=object)

    with pytest.raises(murmur.Error, match="an array message needs a plain dtype"):
        murmur.run(SMOKE, SMALL, out=str(tmp_path / "b"), algorithm=SendsObjects())

    class ShortTopK(PythonTopK):
        def decompress(self, data, n):
            return np.zeros(n - 1, dtype=np.float32)  # one value short

    keys = dict(SMALL, **{"algorithm.name": "choco", "algorithm.gamma": 0.4})
    with pytest.raises(murmur.Error, match=r"compressor 'python' decoded \d+ values, dimension"):
        murmur.run(SMOKE, keys, out=str(tmp_path / "c"), compressor=ShortTopK())

    class OutOfRange(PythonTopK):
        def decompress(self, data, n):
            return np.array([n], dtype=np.int64), np.array([1.0], dtype=np.float32)

    with pytest.raises(murmur.Error, match=r"OutOfRange.decompress: index \d+ for dimension"):
        murmur.run(SMOKE, keys, out=str(tmp_path / "d"), compressor=OutOfRange())


def test_messages_keep_their_dtype_and_shape(tmp_path):
    seen = {}

    class Shapes(PythonDpsgd):
        def send(self, ctx, round, node, x):
            return {peer: np.arange(6, dtype=np.int16).reshape(2, 3) + peer
                    for peer in ctx.out_peers(round, node)}

        def receive(self, ctx, round, node, x, inbox):
            seen[node] = inbox
            assert list(inbox) == sorted(inbox)  # sender-id order

    murmur.run(SMOKE, dict(SMALL, **{"run.rounds": 1}), out=str(tmp_path / "a"),
               algorithm=Shapes())
    message = seen[0][1]
    assert message.dtype == np.int16 and message.shape == (2, 3)
    assert message[0, 0] == 0  # what node 1 sent to node 0: arange + 0
