"""Optimizers with PyTorch's names and defaults, and learning-rate schedules.

``SGD``, ``Adam`` and ``AdamW`` accept (and ignore) PyTorch's first argument, the parameters:
the Trainer owns them. Schedules shape the learning rate over each ``fit``:
``constant(warmup=0)``, ``cosine(warmup=0, min_lr_fraction=0.0)``, ``step(every, gamma)``.
"""


def _number(value, what, positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    if positive and not value > 0:
        raise ValueError(f"Invalid {what}: {value} (must be positive)")
    if value < 0:
        raise ValueError(f"Invalid {what}: {value}")
    return float(value)


class Optimizer:
    """Hyper-parameters the Trainer's optimizer is built from."""

    def __init__(self, lr):
        self.lr = _number(lr, "learning rate", positive=True)

    def _config(self):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items() if k != "name")
        return f"{type(self).__name__}(lr={self.lr}, {args})"


class SGD(Optimizer):
    """``torch.optim.SGD(params, lr=0.01, momentum=0, dampening=0, weight_decay=0, nesterov=False)``."""

    def __init__(self, params=None, lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = _number(momentum, "momentum value")
        self.dampening = _number(dampening, "dampening")
        self.weight_decay = _number(weight_decay, "weight_decay value")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _config(self):
        return {"name": "sgd", "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """``torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``."""

    _name = "adam"
    _default_decay = 0.0

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=None):
        super().__init__(lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair, got {betas!r}")
        self.betas = (_number(betas[0], "beta parameter at index 0"), _number(betas[1], "beta parameter at index 1"))
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"Invalid beta parameters: {betas}")
        self.eps = _number(eps, "epsilon value", positive=True)
        self.weight_decay = _number(self._default_decay if weight_decay is None else weight_decay, "weight_decay value")

    def _config(self):
        return {"name": self._name, "beta1": self.betas[0], "beta2": self.betas[1], "eps": self.eps,
                "weight_decay": self.weight_decay}


class AdamW(Adam):
    """``torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``."""

    _name = "adamw"
    _default_decay = 0.01


def constant(warmup=0):
    """The base rate after ``warmup`` linear warmup steps."""
    return {"kind": "constant", "warmup": int(warmup)}


def cosine(warmup=0, min_lr_fraction=0.0, warmup_start_factor=0.0):
    """Linear warmup, then cosine decay to ``min_lr_fraction × lr`` at the last step of a fit."""
    return {"kind": "cosine", "warmup": int(warmup), "min_lr_fraction": float(min_lr_fraction),
            "warmup_start_factor": float(warmup_start_factor)}


def step(every, gamma=0.1):
    """The rate multiplied by ``gamma`` every ``every`` updates."""
    return {"kind": "step", "every": int(every), "gamma": float(gamma)}


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "constant", "cosine", "step"]
