"""Type stubs of the Rust extension module (for editors and type checkers)."""

from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def param_specs(spec_json: str) -> list[Tuple[str, list[int]]]: ...
def init_params(spec_json: str, seed: int) -> dict[str, npt.NDArray[np.float32]]: ...
def load_dataset(
    name: str, normalize: str = "standard", flatten: bool = True, download: bool = True
) -> Tuple[
    Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]],
    Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]],
]: ...
def cli_main(argv: Sequence[str]) -> int: ...

class Trainer:
    step: int
    device: str
    device_note: str
    spec_json: str
    input_shape: list[int]
    def __init__(
        self,
        spec_json: str,
        input_shape: Sequence[int],
        params: dict[str, npt.NDArray[np.float32]],
        config_json: str,
    ) -> None: ...
    def fit(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[np.int32],
        epochs: int,
        validation: Optional[Tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]] = None,
        callback: Optional[Callable[[dict[str, Any]], Any]] = None,
    ) -> dict[str, Any]: ...
    def evaluate(self, x: npt.NDArray[np.float32], y: npt.NDArray[np.int32]) -> dict[str, Any]: ...
    def predict(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def state_dict(self) -> dict[str, npt.NDArray[np.float32]]: ...
    def load_state_dict(self, params: dict[str, npt.NDArray[np.float32]]) -> None: ...
    def load_weights(self, path: str) -> None: ...
    def save(self, dir: str) -> str: ...
