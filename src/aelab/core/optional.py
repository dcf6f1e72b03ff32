"""Optional dependencies: figures (matplotlib), tables (pandas, pyarrow), progress bars
(tqdm) and experiment tracking (MLflow, TensorBoard) are extras; the models, the trainer
and the estimators on arrays work without them.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(
            f"{purpose} needs the package {module.split('.')[0]!r}, which is not installed: "
            f"pip install 'aelab[{extra}]' (or 'aelab[all]')."
        ) from err


def available(module: str) -> bool:
    """Whether ``module`` can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
