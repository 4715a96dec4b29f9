"""Whether a report comes from PyTorch Lightning's sanity check, which every writing door skips.

Lightning's ``fit`` runs a few validation batches before training
(``num_sanity_val_steps``) with the untrained model, at epoch 0, and writes
none of its own ``self.log`` values there. A report logged from those hooks
would take epoch 0's step and refuse (or precede) the real one, so
:func:`tb_imbalance.log_report`, :func:`tb_imbalance.log_matrix` and
:meth:`tb_imbalance.ReportWriter.write_matrix` write nothing then, and say so once.

Example:
    >>> in_sanity_check()  # not called from a Lightning hook
    False
"""

from __future__ import annotations

import logging
import sys
import warnings

from tb_imbalance.core.caller import user_stacklevel

__all__ = ["LIGHTNING", "in_sanity_check"]

_LOG = logging.getLogger("tb_imbalance")

#: The packages of PyTorch Lightning (and Fabric), by their top-level names.
LIGHTNING = ("lightning_fabric", "lightning", "pytorch_lightning")
_SAID_SANITY_CHECK: list[bool] = []


def in_sanity_check() -> bool:
    """Whether this call comes from a hook that PyTorch Lightning runs in its sanity check (the few validation
    batches ``fit`` runs before training, at epoch 0): that report is not written, as Lightning writes none of
    its own ``self.log`` values there; it would take epoch 0's step, and refuse (or precede) the real one."""
    if not any(package in sys.modules for package in LIGHTNING):
        return False
    # Lightning's hook callers (trainer/call.py) hold the trainer as `trainer`: the innermost such frame is the
    # only one whose locals are read (on CPython <= 3.12 a read keeps a snapshot of them alive in a long-lived frame)
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_globals.get("__name__", "").split(".")[0] in LIGHTNING
        and "trainer" in frame.f_code.co_varnames + frame.f_code.co_cellvars
    ):
        frame = frame.f_back
    if frame is not None and getattr(frame.f_locals.get("trainer"), "sanity_checking", False) is not True:
        frame = None
    if frame is not None and not _SAID_SANITY_CHECK:
        _SAID_SANITY_CHECK.append(True)
        message = (
            "tb_imbalance: this report comes from PyTorch Lightning's sanity check (the validation batches fit "
            "runs before training, num_sanity_val_steps) and is not written, as Lightning writes none of its "
            "self.log values there: at epoch 0 it would take the step of the first epoch's report. Skip the call "
            "there with `if not self.trainer.sanity_checking:`. Said once."
        )
        _LOG.warning(message)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())
    return frame is not None
