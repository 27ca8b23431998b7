import pytest

import ane_trainer as at


@pytest.fixture(scope="session")
def mnist():
    """The embedded MNIST sample: ((x, y), (x_test, y_test)), flattened and standardized."""
    return at.datasets.load("mnist-sample")
