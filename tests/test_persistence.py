"""Saved models: safetensors + JSON, checksummed, clear errors, no pickle."""

import hashlib
import json

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

import aelab
from aelab.models.persistence import CONFIG_FILE, WEIGHTS_FILE


@pytest.fixture
def saved(tmp_path, tiny_data):
    x, _ = tiny_data
    model = aelab.create("sparse", input_shape=12, latent_dim=5, penalty="topk", k=2, seed=0)
    aelab.train(model, x * 10 + 3, epochs=2)  # outside [0, 1]: standard scaling is fitted
    model.save(tmp_path / "m", metadata={"data": "tiny"})
    return model, tmp_path / "m", x * 10 + 3


def test_files_and_config_contents(saved):
    model, path, _ = saved
    assert sorted(p.name for p in path.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    cfg = json.loads((path / CONFIG_FILE).read_text())
    assert cfg["model"] == "sparse" and cfg["config"]["penalty"] == "topk"
    assert cfg["aelab_version"] == aelab.__version__ and cfg["metadata"] == {"data": "tiny"}
    # Config = constructor arguments; the fitted scaling is in the weights file.
    assert "preprocessing" not in cfg and cfg["format_version"] == 2
    tensors = load_file(path / WEIGHTS_FILE)
    np.testing.assert_array_equal(tensors["scaler.shift"].numpy(), model.scaler.shift.numpy())
    assert model.scaler.fitted_kind == "standard"
    assert int(tensors["scaler.fitted_index"]) == model.scaler.FITTED_KINDS.index("standard")
    assert len(cfg["weights"]["sha256"]) == 64


def test_round_trip_preserves_preprocessing(saved):
    model, path, x = saved
    loaded = aelab.load(path)
    np.testing.assert_array_equal(loaded.reconstruct(x), model.reconstruct(x))


def test_missing_config(saved):
    _, path, _ = saved
    (path / CONFIG_FILE).unlink()
    with pytest.raises(ValueError, match="config.json is missing"):
        aelab.load(path)


def test_missing_weights(saved):
    _, path, _ = saved
    (path / WEIGHTS_FILE).unlink()
    with pytest.raises(ValueError, match="missing"):
        aelab.load(path)


def test_truncated_weights(saved):
    _, path, _ = saved
    blob = (path / WEIGHTS_FILE).read_bytes()
    (path / WEIGHTS_FILE).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="truncated, damaged"):
        aelab.load(path)


def test_weights_of_another_model(saved, tmp_path):
    _, path, _ = saved
    other = aelab.create("sparse", input_shape=12, latent_dim=6, penalty="topk", k=2)
    other.save(tmp_path / "other")
    (path / WEIGHTS_FILE).write_bytes((tmp_path / "other" / WEIGHTS_FILE).read_bytes())
    with pytest.raises(ValueError, match="SHA-256"):
        aelab.load(path)
    # even with a matching checksum, shapes that do not fit the config are refused
    cfg = json.loads((path / CONFIG_FILE).read_text())
    cfg["weights"]["sha256"] = json.loads((tmp_path / "other" / CONFIG_FILE).read_text())["weights"]["sha256"]
    (path / CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="do not fit the model"):
        aelab.load(path)


def test_damaged_json_and_unknown_model(saved):
    _, path, _ = saved
    text = (path / CONFIG_FILE).read_text()
    (path / CONFIG_FILE).write_text(text[:40])
    with pytest.raises(ValueError, match="not valid JSON"):
        aelab.load(path)
    cfg = json.loads(text)
    cfg["model"] = "nonexistent"
    (path / CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="Unknown model"):
        aelab.load(path)


def test_save_overwrites_cleanly(saved, tiny_data):
    model, path, x = saved
    aelab.train(model, x, epochs=1)
    model.save(path)
    assert sorted(p.name for p in path.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    np.testing.assert_array_equal(aelab.load(path).encode(x), model.encode(x))


def test_tied_weights_saved_once(tmp_path, tiny_data):
    x, _ = tiny_data
    model = aelab.create("ae", input_shape=12, latent_dim=3, hidden=(6,), tied=True, seed=0)
    enc = [m for m in model.encoder if hasattr(m, "weight")]
    dec = [m for m in model.decoder if hasattr(m, "weight")]
    assert enc[0].weight.data_ptr() == dec[-1].weight.data_ptr()
    aelab.train(model, x, epochs=2)
    model.save(tmp_path / "t")
    loaded = aelab.load(tmp_path / "t")
    assert not any("decoder" in k and k.endswith("weight") for k in loaded.state_dict())
    np.testing.assert_array_equal(loaded.reconstruct(x), model.reconstruct(x))


def test_format_1_files_still_load(saved):
    """Format 1 kept the fitted scaling in config.json and not in the weights file."""
    model, path, x = saved
    cfg = json.loads((path / CONFIG_FILE).read_text())
    tensors = load_file(path / WEIGHTS_FILE)
    scaling = {k: tensors.pop(f"scaler.{k}") for k in ("shift", "scale", "fitted_index")}
    save_file(tensors, path / WEIGHTS_FILE)
    cfg.update(format_version=1, preprocessing={"kind": "standard",
                                                "shift": scaling["shift"].tolist(),
                                                "scale": scaling["scale"].tolist()})
    cfg["weights"]["sha256"] = hashlib.sha256((path / WEIGHTS_FILE).read_bytes()).hexdigest()
    (path / CONFIG_FILE).write_text(json.dumps(cfg))
    old = aelab.load(path)
    assert old.scaler.fitted_kind == "standard"
    np.testing.assert_array_equal(old.reconstruct(x), model.reconstruct(x))
    cfg["preprocessing"]["kind"] = "quantile"
    (path / CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="format 1"):
        aelab.load(path)
