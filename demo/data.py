"""The demo's two imbalanced data sets, both bundled with scikit-learn (no download).

* :func:`long_tail_digits` -- scikit-learn's 8x8 handwritten digits (1,797
  images, 174 to 183 per digit), subsampled to a long tail: digit ``d`` keeps
  ``round(count_d * 0.64 ** (9 - d))`` of its images, chosen at random
  (seeded). Digit 9 keeps all 180 and digit 0 only 3: a 60x gap. With the
  default seed 0 the counts are:

  ==========  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===  =====
  digit         0    1    2    3    4    5    6    7    8    9  total
  ==========  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===  =====
  kept          3    5    8   13   19   31   47   73  111  180    490
  train         1    3    4    7   10   15   23   36   56   90    245
  validation    2    2    4    6    9   16   24   37   55   90    245
  ==========  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===  =====

* :func:`breast_cancer` -- the Wisconsin diagnostic breast cancer set (569
  tumours, 30 measurements each), naturally imbalanced: 212 malignant and
  357 benign. That 1 : 1.7 is too mild to matter here -- trained on it as it
  is, the baseline, class-weights and oversampling runs all end at the same
  malignant recall (0.97 on the validation half, seed 0). So the demo keeps a
  random tenth of the malignant tumours and every benign one: 21 malignant
  (10 train / 11 validation) and 357 benign (179 / 178), a 1 : 17 imbalance
  in which the rare class is the one that must not be missed.

Each set is split once into training and validation halves, stratified by
class (every class keeps its share on both sides), with a fixed seed. Features
are scaled with statistics of the training half only.

Example:
    >>> digits = long_tail_digits()
    >>> digits.class_counts("train").tolist()
    [1, 3, 4, 7, 10, 15, 23, 36, 56, 90]
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn import datasets as sklearn_datasets
from sklearn.model_selection import train_test_split

__all__ = [
    "DIGITS_TAIL_RATIO",
    "MALIGNANT_KEPT_FRACTION",
    "VALIDATION_FRACTION",
    "ImbalancedDataset",
    "long_tail_digits",
    "breast_cancer",
    "load_datasets",
    "long_tail_keep_counts",
]

#: Digit ``d`` keeps ``round(count_d * DIGITS_TAIL_RATIO ** (9 - d))`` images.
DIGITS_TAIL_RATIO = 0.64
#: Share of the malignant tumours the breast-cancer set keeps (all benign ones stay).
MALIGNANT_KEPT_FRACTION = 0.1
#: Share of every class that goes to the validation set.
VALIDATION_FRACTION = 0.5


@dataclasses.dataclass(frozen=True)
class ImbalancedDataset:
    """A classification data set already split into training and validation.

    Attributes:
        name: short name, used as the run-directory prefix (``runs/<name>/…``).
        title: one-line human description.
        class_names: display name of every class id ``0 … C-1``.
        x_train, y_train: training inputs ``[N, ...]`` (float32: the digits
            as ``[N, 8, 8]`` pictures, the tumours as ``[N, 30]`` features)
            and class ids ``[N]``.
        x_val, y_val: validation features and class ids.
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input row (``(8, 8)`` for the digits)."""
        return tuple(int(size) for size in self.x_train.shape[1:])

    def class_counts(self, split: str = "all") -> np.ndarray:
        """Examples per class in ``"train"``, ``"validation"`` or ``"all"``."""
        labels = {
            "train": self.y_train,
            "validation": self.y_val,
            "all": np.concatenate([self.y_train, self.y_val]),
        }
        if split not in labels:
            raise ValueError(f"`split` must be one of {sorted(labels)}, received {split!r}")
        return np.bincount(labels[split], minlength=self.num_classes)

    @property
    def rarest_class(self) -> int:
        """Id of the class with the fewest examples overall."""
        return int(np.argmin(self.class_counts("all")))

    @property
    def imbalance_ratio(self) -> float:
        """Examples of the largest class per example of the smallest."""
        counts = self.class_counts("all")
        return float(counts.max() / counts.min())

    def describe(self) -> str:
        """A small text table of the class counts per split."""
        width = max(5, *(len(name) for name in self.class_names))
        header = "class".ljust(12) + "".join(name.rjust(width + 1) for name in self.class_names)
        lines = [self.title, header + "  total"]
        for split in ("train", "validation"):
            counts = self.class_counts(split)
            cells = "".join(str(count).rjust(width + 1) for count in counts)
            lines.append(split.ljust(12) + cells + str(counts.sum()).rjust(7))
        return "\n".join(lines)


def long_tail_keep_counts(counts: np.ndarray, ratio: float) -> np.ndarray:
    """How many examples each class keeps: ``round(counts[k] * ratio ** (C - 1 - k))``.

    The last class keeps everything, each earlier one a factor ``ratio``
    fewer (at least one example).
    """
    exponents = np.arange(len(counts))[::-1]
    return np.maximum(1, np.round(counts * ratio**exponents)).astype(np.int64)


def _stratified_split(
    features: np.ndarray, labels: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into training / validation halves, each class split alike."""
    x_train, x_val, y_train, y_val = train_test_split(
        features, labels, test_size=VALIDATION_FRACTION, stratify=labels, random_state=seed
    )
    return x_train, x_val, y_train.astype(np.int64), y_val.astype(np.int64)


def long_tail_digits(seed: int = 0) -> ImbalancedDataset:
    """Handwritten digits with a 60× long tail (digit 9 most, digit 0 rarest).

    Args:
        seed: chooses the kept images and the split.

    Returns:
        ``[N, 8, 8]`` pictures with pixels scaled to ``[0, 1]``, class names ``"0"…"9"``.
    """
    bunch = sklearn_datasets.load_digits()
    labels = bunch.target.astype(np.int64)
    keep_counts = long_tail_keep_counts(np.bincount(labels, minlength=10), DIGITS_TAIL_RATIO)
    rng = np.random.default_rng(seed)
    kept = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(labels == digit), count, replace=False) for digit, count in enumerate(keep_counts)]
        )
    )
    features = (bunch.images[kept] / 16.0).astype(np.float32)
    labels = labels[kept]
    class_names = tuple(str(digit) for digit in range(10))
    title = (
        f"digits: scikit-learn's handwritten digits, digit d keeps {DIGITS_TAIL_RATIO}**(9-d) "
        f"of its images ({keep_counts.max()} nines, {keep_counts.min()} zeros)"
    )
    x_train, x_val, y_train, y_val = _stratified_split(features, labels, seed)
    return ImbalancedDataset("digits", title, class_names, x_train, y_train, x_val, y_val)


def breast_cancer(seed: int = 0) -> ImbalancedDataset:
    """Wisconsin breast cancer with one malignant tumour in ten kept (21 vs. 357 benign).

    The full set (212 malignant, 357 benign) is imbalanced only 1 : 1.7 and
    so well separated that all three strategies end at the same malignant
    recall; keeping a random tenth of the malignant tumours (seeded) makes
    the imbalance 1 : 17 and the rare class hard to learn.

    Args:
        seed: chooses the kept malignant tumours and the split.

    Returns:
        30 features standardised with the training half's mean and standard
        deviation; class names ``"malignant"``, ``"benign"`` (scikit-learn's
        ids 0 and 1).
    """
    bunch = sklearn_datasets.load_breast_cancer()
    labels = bunch.target.astype(np.int64)
    class_names = tuple(str(name) for name in bunch.target_names)
    malignant = np.flatnonzero(labels == 0)
    rng = np.random.default_rng(seed)
    kept_malignant = rng.choice(malignant, int(round(len(malignant) * MALIGNANT_KEPT_FRACTION)), replace=False)
    kept = np.sort(np.concatenate([kept_malignant, np.flatnonzero(labels == 1)]))
    title = (
        f"breast_cancer: Wisconsin diagnostic breast cancer, 1 malignant tumour in "
        f"{round(1 / MALIGNANT_KEPT_FRACTION)} kept ({len(kept_malignant)} malignant, "
        f"{len(kept) - len(kept_malignant)} benign)"
    )
    x_train, x_val, y_train, y_val = _stratified_split(bunch.data[kept], labels[kept], seed)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train = ((x_train - mean) / std).astype(np.float32)
    x_val = ((x_val - mean) / std).astype(np.float32)
    return ImbalancedDataset("breast_cancer", title, class_names, x_train, y_train, x_val, y_val)


def load_datasets(seed: int = 0) -> list[ImbalancedDataset]:
    """Both demo data sets, the long-tail digits first."""
    return [long_tail_digits(seed), breast_cancer(seed)]
