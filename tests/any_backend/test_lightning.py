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


def test_a_second_report_at_the_same_step_names_lightnings_validate_before_fit(tmp_path):
    # trainer.validate() before fit logs at epoch 0, as fit's first epoch does (the sanity check writes nothing);
    # epoch 0's report was refused with advice about fresh runs and devices only.
    tb_imbalance.log_report(str(tmp_path), LABELS[:2], SCORES[:2], 0)
    with pytest.raises(ValueError, match=r"trainer\.validate\(\) before fit.*another `name`.*trainer\.state\.fn"):
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


def test_a_report_logged_in_the_sanity_check_is_not_written_and_said_once(tmp_path):
    # Without the docs' guard the sanity check's two batches of the untrained model were written as step 0,
    # and epoch 0's own report was then refused (with steps of their own, such as global_step, the sanity
    # check's matrix stayed on disk as step 0, said nowhere).
    import warnings

    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.loggers import TensorBoardLogger
    from sklearn.metrics import confusion_matrix
    from torch.utils.data import DataLoader, TensorDataset

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = (rng.normal(size=(96, 4)) + np.eye(3, 4)[y]).astype("float32")
    data = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16)

    class Unguarded(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 3)
            self.rows, self.logged = [], {}

        def training_step(self, batch, batch_idx):
            return torch.nn.functional.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, batch_idx):
            self.rows.append((batch[1], self.net(batch[0])))

        def on_validation_epoch_end(self):
            labels, logits = (torch.cat(part) for part in zip(*self.rows))
            cm = tb_imbalance.log_report(self.logger.experiment, labels, logits, self.current_epoch, from_logits=True)
            expected = confusion_matrix(labels.numpy(), logits.argmax(1).numpy(), labels=[0, 1, 2])
            assert cm.tolist() == expected.tolist()  # returned as ever, written or not
            self.logged[(self.trainer.sanity_checking, self.current_epoch)] = expected.tolist()
            writer.write_matrix(self.current_epoch, "confusion_matrix", expected)  # the other door, the same rule
            self.rows.clear()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    pl.seed_everything(0, verbose=False)
    writer = tb_imbalance.ReportWriter(tmp_path / "writer")
    model = Unguarded()
    trainer = pl.Trainer(max_epochs=2, logger=TensorBoardLogger(str(tmp_path), name="run"), enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(model, data, data)
    model.logger.experiment.close()
    said = [w for w in caught if "sanity check" in str(w.message)]
    assert len(said) == 1 and "`if not self.trainer.sanity_checking:`" in str(said[0].message)
    assert said[0].filename == __file__  # the user's line
    assert sorted(model.logged) == [(False, 0), (False, 1), (True, 0)]
    assert sum(map(sum, model.logged[(True, 0)])) == 32  # the sanity check saw two batches
    written = {step: cm.tolist() for step, cm in matrices(model.logger.log_dir)["."].items()}
    assert written == {0: model.logged[(False, 0)], 1: model.logged[(False, 1)]}
    writer.close()
    by_writer = {step: cm.tolist() for step, cm in matrices(tmp_path)["writer"].items()}
    assert by_writer == written  # ReportWriter.write_matrix wrote the sanity check's matrix as step 0


def test_a_csv_loggers_experiment_is_refused_naming_tensorboardlogger(tmp_path):
    # self.logger.experiment where the Trainer's logger is a CSVLogger (Lightning's default without
    # TensorBoard) was refused naming only the accepted kinds, not the logger to add.
    from pytorch_lightning.loggers import CSVLogger

    experiment = CSVLogger(str(tmp_path / "csv")).experiment
    with pytest.raises(TypeError, match=r"`target` is Lightning's ExperimentWriter \(a CSVLogger's \.experiment.*"
                                        r"writes no TensorBoard events: add a TensorBoardLogger"):
        tb_imbalance.log_report(experiment, LABELS, SCORES, 0)
    assert not list((tmp_path / "csv").rglob("events.out.tfevents.*"))
