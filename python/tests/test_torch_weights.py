"""A PyTorch model's weights (fixtures/torch_mlp.npz, made by fixtures/make_torch_fixture.py with
torch) load with load_state_dict and give PyTorch's logits: fp32 within 1e-4 absolute, fp16
within 1e-2 relative to the logits' scale. No torch is needed to run this."""

from pathlib import Path

import numpy as np

import ane_trainer as at

FIXTURE = Path(__file__).parent / "fixtures" / "torch_mlp.npz"


def _fixture():
    data = np.load(FIXTURE)
    state = {k[len("state/"):]: data[k] for k in data.files if k.startswith("state/")}
    return data["x"], data["logits"], state


def _predict(precision, state, x):
    model = at.nn.Sequential(at.nn.Linear(784, 64), at.nn.ReLU(), at.nn.Linear(64, 10))
    model.load_state_dict(state)
    return at.Trainer(model, precision=precision, batch_size=32).predict(x)


def test_pytorch_weights_give_pytorchs_logits_in_fp32():
    x, want, state = _fixture()
    got = _predict("fp32", state, x)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-4


def test_pytorch_weights_give_pytorchs_logits_in_fp16():
    x, want, state = _fixture()
    got = _predict("fp16", state, x)
    scale = np.max(np.abs(want))
    assert np.max(np.abs(got - want)) <= 1e-2 * scale
