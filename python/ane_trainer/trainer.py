"""``Trainer``: fit, evaluate, predict and save a model on the Neural Engine (or its simulator).

    trainer = Trainer(model, optimizer=optim.Adam(lr=1e-3), loss="cross_entropy",
                      batch_size=64, device="auto", precision="fp16")
    history = trainer.fit(x, y, epochs=5, validation=(xt, yt))
    trainer.evaluate(xt, yt)  # {"accuracy": …, "loss": …}
    trainer.predict(xt)       # float32 logits [N, classes]
    trainer.save("run/")      # model.safetensors + trainer.json; ane_trainer.load("run/")

The kernels are compiled for ``batch_size`` the first time data arrives (the input shape is
taken from ``x.shape[1:]``). Training releases the GIL; Ctrl-C stops after the current update
and raises ``KeyboardInterrupt`` with the weights reached kept in the model.
"""

import json
import os

import numpy as np

from . import _native, nn, optim

TRAINER_FILE = "trainer.json"


def _features(x, what):
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{what} must hold numbers, got dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(f"{what} must be [N, features…] with a leading batch axis, got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def _labels(y, n, what):
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{what} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), one label per example, got {y.shape}")
    return np.ascontiguousarray(y, dtype=np.int32)


class Trainer:
    def __init__(self, model, optimizer=None, loss="cross_entropy", batch_size=64, device="auto",
                 precision="fp16", schedule=None, clip=None, seed=0, chip="m4"):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an ane_trainer.nn.Module, got {type(model).__name__}")
        if loss != "cross_entropy":
            raise ValueError(f'loss={loss!r}: the Trainer fits classifiers with "cross_entropy"')
        optimizer = optimizer if optimizer is not None else optim.Adam()
        if not isinstance(optimizer, optim.Optimizer):
            raise TypeError(f"optimizer must be an ane_trainer.optim optimizer, got {type(optimizer).__name__}")
        if device not in ("auto", "sim", "ane"):
            raise ValueError(f'device={device!r}: expected "auto", "sim" or "ane"')
        if precision not in ("fp16", "fp32"):
            raise ValueError(f'precision={precision!r}: expected "fp16" or "fp32"')
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.model = model
        self.optimizer = optimizer
        self.config = {
            "batch_size": batch_size, "device": device, "precision": precision, "seed": int(seed),
            "lr": optimizer.lr, "optimizer": optimizer._config(), "schedule": schedule or optim.constant(),
            "clip": clip, "chip": chip,
        }
        self._native = None

    def _ensure(self, example_shape):
        shape = [int(d) for d in example_shape]
        if self._native is None:
            params = self.model.state_dict() if self.model._state is not None else \
                self.model.init_parameters(self.config["seed"]).state_dict()
            self._native = _native.Trainer(self.model.spec_json(), shape, params, json.dumps(self.config))
        elif list(self._native.input_shape) != shape:
            raise ValueError(f"this trainer was compiled for examples of shape {tuple(self._native.input_shape)}, "
                             f"got {tuple(shape)}")
        return self._native

    def _sync(self):
        self.model._state = dict(self._native.state_dict())

    @property
    def device(self):
        """``sim`` or ``ane`` once compiled, else ``None``."""
        return None if self._native is None else self._native.device

    def fit(self, x, y, epochs=1, validation=None, callback=None):
        """Trains for ``epochs`` passes over ``(x, y)``; returns the history
        ``{"loss": [...], "val_accuracy": [...], "val_loss": [...], "steps": n, …}``."""
        x = _features(x, "x")
        y = _labels(y, x.shape[0], "y")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {epochs!r}")
        val = None
        if validation is not None:
            if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
                raise TypeError("validation must be a pair (x, y)")
            vx = _features(validation[0], "validation x")
            val = (vx, _labels(validation[1], vx.shape[0], "validation y"))
        native = self._ensure(x.shape[1:])
        try:
            return native.fit(x, y, epochs, val, callback)
        finally:
            self._sync()

    def evaluate(self, x, y):
        """``{"accuracy", "loss", "correct", "examples"}`` on ``(x, y)``."""
        x = _features(x, "x")
        y = _labels(y, x.shape[0], "y")
        return self._ensure(x.shape[1:]).evaluate(x, y)

    def predict(self, x):
        """float32 logits ``[N, classes]``."""
        x = _features(x, "x")
        return self._ensure(x.shape[1:]).predict(x)

    def save(self, directory):
        """Writes ``model.safetensors`` (PyTorch's names) and ``trainer.json`` (the module tree,
        the input shape and the settings) under ``directory``; ``ane_trainer.load`` reads them."""
        if self._native is None:
            raise RuntimeError("nothing to save yet: fit, evaluate or predict first (the input shape is unknown)")
        os.makedirs(directory, exist_ok=True)
        self._native.load_state_dict(self.model.state_dict())
        self._native.save(os.fspath(directory))
        record = {"format": "ane-trainer python trainer 1", "spec": json.loads(self.model.spec_json()),
                  "input_shape": list(self._native.input_shape), "config": self.config}
        tmp = os.path.join(directory, TRAINER_FILE + ".partial")
        with open(tmp, "w") as f:
            json.dump(record, f, indent=2)
        os.replace(tmp, os.path.join(directory, TRAINER_FILE))
        return directory


def _module_from_spec(spec):
    kind = spec.get("type")
    simple = {"ReLU": nn.ReLU, "SiLU": nn.SiLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Flatten": nn.Flatten}
    if kind in simple:
        return simple[kind]()
    if kind == "Sequential":
        return nn.Sequential(*[_module_from_spec(c) for c in spec["children"]])
    args = {k: v for k, v in spec.items() if k != "type"}
    classes = {"Linear": nn.Linear, "Conv2d": nn.Conv2d, "GELU": nn.GELU, "LayerNorm": nn.LayerNorm,
               "RMSNorm": nn.RMSNorm, "Dropout": nn.Dropout, "Embedding": nn.Embedding,
               "MaxPool2d": nn.MaxPool2d, "AvgPool2d": nn.AvgPool2d}
    if kind not in classes:
        raise ValueError(f"unknown module type {kind!r} in the saved trainer")
    return classes[kind](**args)


def load(directory):
    """The ``Trainer`` saved in ``directory`` by ``Trainer.save``, with its weights."""
    path = os.path.join(directory, TRAINER_FILE)
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: is {directory} a directory written by Trainer.save?") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    model = _module_from_spec(record["spec"])
    config = record["config"]
    opt = config["optimizer"]
    name = opt.get("name")
    if name == "sgd":
        optimizer = optim.SGD(lr=config["lr"], momentum=opt["momentum"], dampening=opt["dampening"],
                              weight_decay=opt["weight_decay"], nesterov=opt["nesterov"])
    else:
        cls = optim.AdamW if name == "adamw" else optim.Adam
        optimizer = cls(lr=config["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"],
                        weight_decay=opt["weight_decay"])
    trainer = Trainer(model, optimizer=optimizer, batch_size=config["batch_size"], device=config["device"],
                      precision=config["precision"], schedule=config["schedule"], clip=config["clip"],
                      seed=config["seed"], chip=config["chip"])
    model.init_parameters(config["seed"])
    native = trainer._ensure(record["input_shape"])
    native.load_weights(os.path.join(directory, "model.safetensors"))
    trainer._sync()
    return trainer


__all__ = ["Trainer", "load"]
