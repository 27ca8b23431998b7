"""Training from Python: the README example reaches the CLI's accuracy; history, predict,
save/load and the CLI entry point behave as documented."""

import subprocess
import sys

import numpy as np

import ane_trainer as at


def test_the_readme_example_trains_the_default_mlp_to_91_percent(mnist, tmp_path):
    (x, y), (xt, yt) = mnist
    assert x.shape == (4000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    model = at.nn.mlp()
    trainer = at.Trainer(model, optimizer=at.optim.Adam(model.parameters(), lr=1e-3), batch_size=64)
    history = trainer.fit(x, y, epochs=10, validation=(xt, yt))
    assert len(history["loss"]) == 10 and history["steps"] == 620
    assert history["loss"][-1] < history["loss"][0]
    result = trainer.evaluate(xt, yt)
    assert result["accuracy"] >= 0.91, result
    assert result["examples"] == 1000
    assert trainer.device in ("sim", "ane")

    logits = trainer.predict(xt[:100])
    assert logits.shape == (100, 10) and logits.dtype == np.float32
    assert (logits.argmax(1) == yt[:100]).mean() >= 0.85

    # The model holds the trained weights, under PyTorch's names.
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].shape == (256, 784)

    trainer.save(tmp_path / "run")
    again = at.load(tmp_path / "run")
    assert again.evaluate(xt, yt)["accuracy"] == result["accuracy"]
    np.testing.assert_array_equal(again.predict(xt[:10]), trainer.predict(xt[:10]))


def test_callbacks_see_every_epoch_and_fits_are_reproducible(mnist):
    (x, y), (xt, yt) = mnist
    seen = []

    def run():
        trainer = at.Trainer(at.nn.mlp(), optimizer=at.optim.SGD(lr=0.05, momentum=0.9), seed=3)
        return trainer.fit(x[:1024], y[:1024], epochs=2, validation=(xt, yt), callback=seen.append)

    first, second = run(), run()
    assert [e["epoch"] for e in seen] == [0, 1, 0, 1]
    assert all(0.0 <= e["val_accuracy"] <= 1.0 for e in seen)
    assert first["step_loss"] == second["step_loss"]


def test_python_dash_m_runs_the_cli(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "ane_trainer", "train", "--epochs", "1", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "test accuracy:" in out.stdout
    assert (tmp_path / "r" / "metrics.jsonl").exists()
    bad = subprocess.run([sys.executable, "-m", "ane_trainer", "train", "--epochs", "x"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "--epochs" in bad.stderr
