"""The onnx backend: the shipped models' ONNX graphs score as torch does, cannot drift from their
safetensors files, and a graph that is not its model file's is refused."""
from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from heartbeats import heartbeats
from safetensors.numpy import load_file, save_file
from safetensors.numpy import safe_open as np_safe_open

from ecgad.detector import SHIPPED_MODEL, Detector
from ecgad.onnx_runtime import twin_path
from ecgad.recording import SHIPPED_RECORDING_MODEL

pytest.importorskip("onnxruntime")
ASSETS = Path(str(files("ecgad") / "assets"))
MODELS = [SHIPPED_MODEL, SHIPPED_RECORDING_MODEL]  # the recording model's file is its beat autoencoder's
TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=MODELS)
def pair(request) -> tuple[Detector, Detector]:
    path = ASSETS / request.param
    return Detector.load(path, backend="torch"), Detector.load(path, backend="onnx")


def beats(n: int) -> np.ndarray:
    """Normal and abnormal synthetic beats, and ECG5000's example beats, ``n`` in all."""
    examples = [np.loadtxt(ASSETS / "examples" / name, delimiter=",", ndmin=2)[:, -140:]
                for name in ("normal_beats.csv", "abnormal_beats.csv")]
    pool = np.concatenate([*examples, heartbeats(n, seed=1), heartbeats(n, abnormal=True, seed=2)])
    return pool[np.random.default_rng(n).permutation(len(pool))[:n]]


@pytest.mark.parametrize("n", [1, 7, 4096])
def test_onnx_scores_as_torch(pair, n: int) -> None:
    torch_det, onnx_det = pair
    assert (torch_det.backend, onnx_det.backend) == ("torch", "onnx")
    x = beats(n)
    for name, values in torch_det.score_parts(x).items():
        np.testing.assert_allclose(onnx_det.score_parts(x)[name], values, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_allclose(onnx_det.score(x), torch_det.score(x), rtol=TOLERANCE, atol=TOLERANCE)
    a, b = torch_det.embed(x), onnx_det.embed(x)
    assert b.codes.shape == a.codes.shape == (torch_det.n_members, n, torch_det.spec.config.latent)
    np.testing.assert_allclose(b.codes, a.codes, atol=TOLERANCE)
    np.testing.assert_allclose(b.errors, a.errors, rtol=TOLERANCE, atol=TOLERANCE)
    shown = slice(0, min(n, 64))  # a Verdict per beat: the first few are enough for the curves
    for v, w in zip(torch_det.predict(x[shown]), onnx_det.predict(x[shown]), strict=True):
        np.testing.assert_allclose(w.reconstruction, v.reconstruction, atol=TOLERANCE)
        assert (w.is_anomaly, w.index) == (v.is_anomaly, v.index) or abs(w.score - w.threshold) < TOLERANCE
    if torch_det.has_data_fit and n > 1:
        np.testing.assert_allclose(onnx_det.domain_distance(x), torch_det.domain_distance(x), atol=TOLERANCE)


def test_big_batches_go_through_in_chunks(pair) -> None:
    torch_det, onnx_det = pair
    x = beats(300)
    whole = onnx_det._evaluate(x, codes=True)
    chunked = onnx_det._evaluate(x, batch=64, codes=True)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    if torch_det.latent_train is not None:  # numpy's neighbour search, in chunks, against torch's cdist
        torch = pytest.importorskip("torch")
        refs = torch.from_numpy(torch_det.latent_train.astype(np.float64))
        logs = 0.0
        for member in range(len(refs)):
            q = torch.from_numpy(whole[2][member].astype(np.float64))
            near = torch.topk(torch.cdist(q, refs[member]), torch_det.latent_neighbours, largest=False).values
            logs = logs + np.log(near.mean(dim=1).numpy())
        np.testing.assert_allclose(onnx_det._latent_distance(whole[2], batch=50), np.exp(logs / len(refs)),
                                   rtol=1e-9)


@pytest.mark.parametrize("name", MODELS)
def test_the_shipped_graph_is_its_safetensors_file_exported_again(name: str, tmp_path: Path) -> None:
    """One source of truth: exporting the safetensors file again gives a graph with the same id and
    weights digest that computes the same numbers as the shipped one."""
    pytest.importorskip("onnxscript")
    import onnxruntime as ort

    from ecgad.onnx_export import export

    again = export(Detector.load(ASSETS / name, backend="torch"), tmp_path / "again.onnx")
    shipped, fresh = (ort.InferenceSession(str(p)) for p in (twin_path(ASSETS / name), again))
    meta = shipped.get_modelmeta().custom_metadata_map
    assert meta == fresh.get_modelmeta().custom_metadata_map
    assert meta["ecgad.model_id"] == Detector.load(ASSETS / name, backend="torch").meta["model_id"]
    x = np.random.default_rng(0).normal(size=(33, 140)).astype(np.float32)
    for a, b in zip(shipped.run(None, {"beats": x}), fresh.run(None, {"beats": x}), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def copy_model(name: str, folder: Path) -> Path:
    path = folder / "model.safetensors"
    shutil.copy(ASSETS / name, path)
    return path


def test_a_graph_of_another_model_is_refused(tmp_path: Path) -> None:
    path = copy_model(SHIPPED_MODEL, tmp_path)
    shutil.copy(twin_path(ASSETS / SHIPPED_RECORDING_MODEL), twin_path(path))
    with pytest.raises(ValueError, match=r"model\.onnx: this ONNX graph is of model 'hybrid-1326556d1fdc', "
                                         r"not of 'hybrid-ec8f5785c44b'"):
        Detector.load(path)
    assert Detector.load(path, backend="torch").backend == "torch"  # the file itself is fine


def test_a_graph_of_other_weights_under_the_same_id_is_refused(tmp_path: Path) -> None:
    path = copy_model(SHIPPED_MODEL, tmp_path)
    shutil.copy(twin_path(ASSETS / SHIPPED_MODEL), twin_path(path))
    assert Detector.load(path).backend == "onnx"
    with np_safe_open(str(path), framework="np") as f:
        metadata = f.metadata()
    tensors = load_file(str(path))
    name = next(k for k in sorted(tensors) if k.startswith("model."))
    tensors[name] = tensors[name] + np.float32(1e-3)  # retrained, say, and the graph not exported again
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match="made from other weights than its model file's"):
        Detector.load(path)


def test_backend_choice(tmp_path: Path) -> None:
    path = copy_model(SHIPPED_MODEL, tmp_path)
    assert Detector.load(path).backend == "torch"  # auto, no graph beside it
    with pytest.raises(ValueError, match=r"model\.safetensors: no ONNX graph beside it \(model\.onnx\); make it "
                                         r"with `ecgad export onnx"):
        Detector.load(path, backend="onnx")
    with pytest.raises(ValueError, match="backend must be one of auto, torch, onnx, not 'gpu'"):
        Detector.load(path, backend="gpu")
    twin_path(path).write_bytes(b"not a graph")
    with pytest.raises(ValueError, match=r"model\.onnx: not an ONNX model onnxruntime can run"):
        Detector.load(path)
