"""Layers with PyTorch's names and arguments, composed with ``Sequential``.

A module here describes a model; its parameters are numpy arrays under PyTorch's names
(``0.weight`` ``[out, in]``, ``0.bias``). ``state_dict()`` returns them (initialized from
``seed`` on first use) and ``load_state_dict(d)`` accepts a dict of arrays — a PyTorch
``state_dict`` converted with ``{k: v.numpy() for k, v in sd.items()}`` — reporting missing,
unexpected and mis-shaped keys as PyTorch does.
"""

import json
from collections import namedtuple

import numpy as np

from . import _native

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


class Module:
    """The base of every layer: a spec (the layer's constructor arguments) and parameters."""

    _type = None

    def __init__(self):
        self._state = None
        self.training = True

    # -- description -------------------------------------------------------------------------
    def _spec(self):
        return {"type": self._type}

    def spec_json(self):
        """The module tree as JSON (what the Rust side builds the model from)."""
        return json.dumps(self._spec())

    def __repr__(self):
        args = {k: v for k, v in self._spec().items() if k not in ("type", "children")}
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{type(self).__name__}({inner})"

    # -- parameters --------------------------------------------------------------------------
    def param_shapes(self):
        """``{name: shape}`` of every parameter, in declaration order."""
        return {name: tuple(shape) for name, shape in _native.param_specs(self.spec_json())}

    def init_parameters(self, seed=0):
        """Draws fresh parameters with PyTorch's initializers from ``seed``."""
        self._state = dict(_native.init_params(self.spec_json(), int(seed)))
        return self

    def state_dict(self):
        """``{name: float32 array}`` of every parameter (copies)."""
        if self._state is None:
            self.init_parameters()
        return {k: np.array(v, dtype=np.float32, copy=True) for k, v in self._state.items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copies ``state_dict``'s arrays into the parameters. With ``strict`` (the default)
        any missing, unexpected or mis-shaped key raises ``RuntimeError`` naming all of them;
        otherwise the matching keys are loaded and ``IncompatibleKeys`` is returned."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict of arrays, got {type(state_dict).__name__}")
        shapes = self.param_shapes()
        missing = [k for k in shapes if k not in state_dict]
        unexpected = [k for k in state_dict if k not in shapes]
        errors = []
        arrays = {}
        for name, shape in shapes.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if hasattr(value, "detach"):  # a torch tensor slipped through: say how to convert
                raise TypeError(f"{name}: convert torch tensors with {{k: v.numpy() for k, v in sd.items()}}")
            array = np.asarray(value, dtype=np.float32)
            if tuple(array.shape) != shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {shape}."
                )
                continue
            if not np.all(np.isfinite(array)):
                errors.append(f"{name} holds NaN or inf values")
                continue
            arrays[name] = np.ascontiguousarray(array)
        if strict and (missing or unexpected or errors):
            lines = []
            if missing:
                lines.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                lines.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            lines.extend(errors)
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(lines))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        if self._state is None:
            self.init_parameters()
        self._state.update(arrays)
        return IncompatibleKeys(missing, unexpected)

    def parameters(self):
        """The parameter arrays, in declaration order (for ``optim`` calls written the PyTorch
        way; the optimizers here do not need them)."""
        return list(self.state_dict().values())

    def num_parameters(self):
        return int(sum(int(np.prod(s)) for s in self.param_shapes().values()))

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)


class Linear(Module):
    """``torch.nn.Linear(in_features, out_features, bias=True)``."""

    _type = "Linear"

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        self.bias = bool(bias)

    def _spec(self):
        return {"type": "Linear", "in_features": self.in_features, "out_features": self.out_features, "bias": self.bias}


class Conv2d(Module):
    """``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``
    (square kernels)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.args = {
            "in_channels": _positive_int(in_channels, "in_channels"),
            "out_channels": _positive_int(out_channels, "out_channels"),
            "kernel_size": _positive_int(kernel_size, "kernel_size"),
            "stride": _positive_int(stride, "stride"),
            "padding": int(padding),
            "bias": bool(bias),
        }
        if self.args["padding"] < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")

    def _spec(self):
        return {"type": "Conv2d", **self.args}


def _simple(name, torch_name):
    cls = type(name, (Module,), {"_type": torch_name, "__doc__": f"``torch.nn.{name}()``."})
    return cls


ReLU = _simple("ReLU", "ReLU")
SiLU = _simple("SiLU", "SiLU")
Sigmoid = _simple("Sigmoid", "Sigmoid")
Tanh = _simple("Tanh", "Tanh")
Flatten = _simple("Flatten", "Flatten")


class GELU(Module):
    """``torch.nn.GELU(approximate="none")``; ``"tanh"`` for the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f'approximate must be "none" or "tanh", got {approximate!r}')
        self.approximate = approximate

    def _spec(self):
        return {"type": "GELU", "approximate": self.approximate}


class _Norm(Module):
    def __init__(self, normalized_shape, eps=None):
        super().__init__()
        if isinstance(normalized_shape, (tuple, list)):
            if len(normalized_shape) != 1:
                raise ValueError("only normalization over the last axis is supported: give one size")
            normalized_shape = normalized_shape[0]
        self.normalized_shape = _positive_int(normalized_shape, "normalized_shape")
        self.eps = eps

    def _spec(self):
        spec = {"type": self._type, "normalized_shape": self.normalized_shape}
        if self.eps is not None:
            spec["eps"] = float(self.eps)
        return spec


class LayerNorm(_Norm):
    """``torch.nn.LayerNorm(normalized_shape, eps=1e-5)`` over the last axis."""

    _type = "LayerNorm"


class RMSNorm(_Norm):
    """``torch.nn.RMSNorm(normalized_shape, eps)`` over the last axis."""

    _type = "RMSNorm"


class Dropout(Module):
    """``torch.nn.Dropout(p=0.5)``."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"dropout probability has to be in [0, 1), got {p}")
        self.p = float(p)

    def _spec(self):
        return {"type": "Dropout", "p": self.p}


class Embedding(Module):
    """``torch.nn.Embedding(num_embeddings, embedding_dim)``."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim")

    def _spec(self):
        return {"type": "Embedding", "num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.stride = None if stride is None else _positive_int(stride, "stride")
        self.padding = int(padding)

    def _spec(self):
        return {"type": self._type, "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}


class MaxPool2d(_Pool):
    """``torch.nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0)``."""

    _type = "MaxPool2d"


class AvgPool2d(_Pool):
    """``torch.nn.AvgPool2d(kernel_size, stride=kernel_size, padding=0)``."""

    _type = "AvgPool2d"


class Sequential(Module):
    """``torch.nn.Sequential(*modules)``: children named ``0``, ``1``, …"""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential argument {i} is a {type(m).__name__}, not an ane_trainer.nn.Module")
        self.children = list(modules)

    def _spec(self):
        return {"type": "Sequential", "children": [m._spec() for m in self.children]}

    def __len__(self):
        return len(self.children)

    def __getitem__(self, i):
        return self.children[i]

    def __repr__(self):
        body = "".join(f"\n  ({i}): {m!r}" for i, m in enumerate(self.children))
        return f"Sequential({body}\n)"


def mlp(widths=(784, 256, 10)):
    """The ``mlp`` preset: ``Linear → ReLU → … → Linear`` over ``widths`` (input first)."""
    widths = [int(w) for w in widths]
    if len(widths) < 2:
        raise ValueError("an MLP needs at least an input and an output width")
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(Linear(a, b))
        if i < len(widths) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def cnn(channels=(16, 32), image_size=28, classes=10):
    """A small CNN for ``[N, 1, H, W]`` images: ``(Conv2d 3×3 → ReLU → MaxPool2d 2)`` per entry
    of ``channels``, then ``Flatten → Linear``."""
    layers, c_in, side = [], 1, int(image_size)
    for c in channels:
        layers += [Conv2d(c_in, c, 3, padding=1), ReLU(), MaxPool2d(2)]
        c_in, side = int(c), side // 2
    layers += [Flatten(), Linear(c_in * side * side, classes)]
    return Sequential(*layers)


__all__ = [
    "Module", "Linear", "Conv2d", "ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "LayerNorm",
    "RMSNorm", "Dropout", "Embedding", "MaxPool2d", "AvgPool2d", "Flatten", "Sequential",
    "mlp", "cnn", "IncompatibleKeys",
]
