"""Bad arguments raise ValueError/TypeError (never a crash) with messages that say what is wrong."""

import numpy as np
import pytest

import ane_trainer as at


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="ane_trainer.nn.Module"):
        at.Trainer("not a model")
    with pytest.raises(ValueError, match="batch_size"):
        at.Trainer(at.nn.mlp(), batch_size=0)
    with pytest.raises(ValueError, match="device"):
        at.Trainer(at.nn.mlp(), device="gpu")
    with pytest.raises(ValueError, match="cross_entropy"):
        at.Trainer(at.nn.mlp(), loss="mse")
    with pytest.raises(ValueError, match="learning rate"):
        at.optim.Adam(lr=-1)
    with pytest.raises(ValueError, match="beta"):
        at.optim.Adam(betas=(0.9, 1.5))
    with pytest.raises(TypeError, match="in_features"):
        at.nn.Linear(7.5, 3)
    with pytest.raises(ValueError, match="approximate"):
        at.nn.GELU(approximate="fast")
    with pytest.raises(TypeError, match="Sequential argument 1"):
        at.nn.Sequential(at.nn.ReLU(), "relu")
    with pytest.raises(ValueError, match="unknown dataset"):
        at.datasets.load("cifar-1000")


def test_bad_data(mnist):
    (x, y), _ = mnist
    trainer = at.Trainer(at.nn.mlp())
    with pytest.raises(ValueError, match="one label per example"):
        trainer.fit(x, y[:10])
    with pytest.raises(TypeError, match="integer class labels"):
        trainer.fit(x, y.astype(np.float32))
    with pytest.raises(ValueError, match="784"):
        trainer.fit(x[:, :100], y)
    bad = y.copy()
    bad[3] = 12
    with pytest.raises(ValueError, match="label 12"):
        trainer.fit(x, bad)
    nan = x.copy()
    nan[5, 5] = np.nan
    with pytest.raises(ValueError, match="finite"):
        trainer.fit(nan, y)
    with pytest.raises(ValueError, match="fewer than one batch"):
        trainer.fit(x[:10], y[:10])
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit(x, y, epochs=0)


def test_load_state_dict_reports_keys_like_pytorch():
    model = at.nn.mlp()
    state = model.state_dict()
    partial = {k: v for k, v in state.items() if k != "2.bias"}
    partial["extra.weight"] = np.zeros(3, np.float32)
    partial["0.weight"] = np.zeros((10, 784), np.float32)
    with pytest.raises(RuntimeError) as e:
        model.load_state_dict(partial)
    text = str(e.value)
    assert 'Missing key(s) in state_dict: "2.bias"' in text
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in text
    assert "size mismatch for 0.weight" in text
    del partial["0.weight"]
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["0.weight", "2.bias"]
    assert result.unexpected_keys == ["extra.weight"]
