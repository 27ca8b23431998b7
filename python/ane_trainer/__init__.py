"""Train neural networks on the Apple Neural Engine — and on its simulator everywhere else.

    import ane_trainer as at
    (x, y), (xt, yt) = at.datasets.load("mnist-sample")
    trainer = at.Trainer(at.nn.mlp(), optimizer=at.optim.Adam(lr=1e-3))
    trainer.fit(x, y, epochs=10, validation=(xt, yt))
    print(trainer.evaluate(xt, yt))

Modules mirror PyTorch's names: ``ane_trainer.nn`` (layers, ``Sequential``, presets),
``ane_trainer.optim`` (``SGD``, ``Adam``, ``AdamW`` and schedules), ``ane_trainer.datasets``.
``python -m ane_trainer`` runs the ``ane-trainer`` command line.
"""

from . import datasets, nn, optim
from ._native import __version__
from .trainer import Trainer, load

__all__ = ["Trainer", "load", "nn", "optim", "datasets", "__version__"]
