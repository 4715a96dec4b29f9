"""tb_imbalance: per-epoch confusion matrices and imbalance-aware metrics in TensorBoard.

Importing the package is light (numpy only). TensorFlow is imported by
:mod:`tb_imbalance.summary` and :mod:`tb_imbalance.keras`; the TensorBoard
plugin (:mod:`tb_imbalance.plugin`) never imports it.

Example:
    >>> import tb_imbalance
    >>> tb_imbalance.PLUGIN_NAME
    'imbalance'
"""

from tb_imbalance.core import classification_report, confusion_matrix, imbalance_metrics
from tb_imbalance.format import FORMAT_VERSION, PLUGIN_NAME

__version__ = "0.1.0"

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "classification_report",
    "confusion_matrix",
    "imbalance_metrics",
    "__version__",
]
