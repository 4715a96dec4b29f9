"""PyTorch Lightning's ways of calling log_report wrongly get refusals that name Lightning's fix.

Runs where pytorch_lightning is installed (the PyTorch environment).
"""

import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices
from tb_imbalance.targets import close_directory_writers

pytest.importorskip("pytorch_lightning")

LABELS = np.array([0, 1, 1, 0])
SCORES = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])


def test_the_loggers_stand_in_on_another_rank_is_refused_naming_the_rank_zero_guard(tmp_path, monkeypatch):
    from lightning_fabric.utilities.rank_zero import rank_zero_only
    from pytorch_lightning.loggers import TensorBoardLogger

    monkeypatch.setattr(rank_zero_only, "rank", 1)  # as Lightning sets it in every process of rank > 0
    stand_in = TensorBoardLogger(str(tmp_path), name="run").experiment
    with pytest.raises(TypeError, match=r"Lightning's stand-in .* rank 0 .*all_gather.*is_global_zero"):
        tb_imbalance.log_report(stand_in, LABELS, SCORES, 0)
    assert not (tmp_path / "run").exists()


def test_a_second_report_at_the_same_step_names_lightnings_sanity_check(tmp_path):
    # Without the docs' guard the sanity check's two batches are step 0; epoch 0's report was refused
    # with advice about fresh runs and devices only.
    tb_imbalance.log_report(str(tmp_path), LABELS[:2], SCORES[:2], 0)
    with pytest.raises(ValueError, match=r"sanity check.*`if not self\.trainer\.sanity_checking:`"):
        tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, 0)
    close_directory_writers()


def test_a_lightning_logger_passed_instead_of_its_writer_is_refused_naming_experiment(tmp_path):
    # self.logger in place of self.logger.experiment: refused before naming only the accepted kinds
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    logger = TensorBoardLogger(str(tmp_path), name="run")
    with pytest.raises(TypeError, match=r"`target` is Lightning's TensorBoardLogger.*self\.logger\.experiment"):
        tb_imbalance.log_report(logger, LABELS, SCORES, 0)
    with pytest.raises(TypeError, match=r"`target` is Lightning's CSVLogger, which writes no TensorBoard events.*"
                                        r"TensorBoardLogger.*self\.logger\.experiment"):
        tb_imbalance.log_report(CSVLogger(str(tmp_path / "csv")), LABELS, SCORES, 0)
    assert not (tmp_path / "run").exists() and not (tmp_path / "csv").exists()
    tb_imbalance.log_report(logger.experiment, LABELS, SCORES, 0)
    logger.experiment.close()
    assert matrices(logger.log_dir)["."][0].tolist() == [[2, 0], [1, 1]]
