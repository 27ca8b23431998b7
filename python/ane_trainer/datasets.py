"""The datasets the command line knows, as numpy arrays.

``load(name)`` returns ``((x_train, y_train), (x_test, y_test))``: float32 images normalized
with the dataset's mean and standard deviation (``normalize="standard"``; ``"unit"`` divides by
255, ``"none"`` keeps 0–255), flattened to ``[N, H*W]`` (``flatten=False`` gives
``[N, 1, H, W]``), and int64 labels. ``mnist-sample`` is embedded and needs no network;
``mnist`` and ``fashion-mnist`` are found locally or downloaded (``download=False`` forbids it).
"""

from ._native import load_dataset

NAMES = ("mnist-sample", "mnist", "fashion-mnist")


def load(name="mnist-sample", normalize="standard", flatten=True, download=True):
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'mnist-sample', got {type(name).__name__}")
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}")
    return load_dataset(name, normalize=normalize, flatten=bool(flatten), download=bool(download))


__all__ = ["load", "NAMES"]
