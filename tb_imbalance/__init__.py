"""tb_imbalance: per-epoch confusion matrices and imbalance-aware metrics in TensorBoard.

Importing the package loads numpy, Pillow and TensorBoard's protos, never a
training framework: :func:`log_report`, :func:`log_matrix` and
:class:`ReportWriter` log from any loop (PyTorch, JAX, NumPy, scikit-learn).
:mod:`tb_imbalance.keras` works with Keras 3 on any backend;
:mod:`tb_imbalance.summary` mirrors ``tf.summary`` for TensorFlow users; the
TensorBoard plugin (:mod:`tb_imbalance.plugin`) imports no framework.

Example:
    >>> import tb_imbalance
    >>> tb_imbalance.PLUGIN_NAME
    'imbalance'
"""

from tb_imbalance.core import classification_report, confusion_matrix, imbalance_metrics
from tb_imbalance.format import FORMAT_VERSION, PLUGIN_NAME

__version__ = "0.1.0"

# The writers load Pillow and TensorBoard's event-file pieces: loaded on first
# use, so the TensorBoard plugin (which imports this package) starts lean.
_LAZY = {"log_report": "tb_imbalance.log", "log_matrix": "tb_imbalance.log", "ReportWriter": "tb_imbalance.writer"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tb_imbalance' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "classification_report",
    "confusion_matrix",
    "imbalance_metrics",
    "log_report",
    "log_matrix",
    "ReportWriter",
    "__version__",
]
