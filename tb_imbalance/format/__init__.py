"""The on-disk format of tb_imbalance summaries, in one place.

Every confusion matrix is one TensorBoard *tensor* summary:

* plugin name ``imbalance`` (:data:`PLUGIN_NAME`), ``data_class`` TENSOR;
* the tensor holds the raw confusion matrix (rows = true class, columns =
  predicted class, scikit-learn's convention) as ``int64`` counts, or
  ``float64`` sums when sample weights were given, in one of two encodings:

  - ``dense`` (format version 1): the ``[C, C]`` matrix itself;
  - ``coo`` (format version 2, used above :data:`DENSE_MAX_CLASSES` classes):
    the non-zero cells as rows ``[true, predicted, count]``, shape ``[K, 3]``,
    sorted by (true, predicted). A 1000-class matrix is 8 MB dense but only
    ``24 × K`` bytes here, and K ≤ number of validation rows;
* the plugin content is a small UTF-8 JSON object::

      {"version": 1, "num_classes": 3, "class_names": ["cat", "dog", "bird"],
       "weighted": false, "encoding": "dense"}

  Format version 3 adds two optional fields, present only when given:
  ``class_counts`` (training examples per class, C non-negative ints) and
  ``class_groups`` (``{"group name": [class names…]}``).

Format version 4 adds the examples behind each cell: a *blob sequence*
summary (``data_class`` BLOB_SEQUENCE, plugin ``imbalance``) under the tag
``name + "_examples"`` (:func:`examples_tag`), written in the same step as
the matrix ``name``. Its plugin content is
``{"version": 4, "kind": "examples", "matrix_tag": name}``; its blobs are
a UTF-8 JSON index (blob 0, :func:`decode_examples_index`) followed by the
PNG thumbnails it refers to by blob position. Readers of versions 1–3 list
tensor summaries only, so they never see these tags.

Format version 5 adds the binned scores behind the PR, ROC and reliability
curves: a blob sequence (plugin ``imbalance``) under the tag
``name + "_curves"`` (:func:`curves_tag`), written in the same step as the
matrix when the predictions were scores. Its plugin content is
``{"version": 5, "kind": "curves", "matrix_tag": name, "bins": 75,
"calibration_bins": 15}``; its one blob is an NPY array (``numpy.save``,
float32, or float64 when a count passes 2**24) of shape ``[C + 1, 3, bins]``:
per class (rows ``0…C−1``) and equal-width score bin ``k`` (scores in
``[k / bins, (k + 1) / bins)``, 1.0 in the last bin) the positives, the
negatives and the sum of the class's scores; row ``C`` the same for the top
label (correct rows, wrong rows, sum of confidences). See
:mod:`tb_imbalance.core.binned_scores`. Readers of version 4 read only the
``_examples`` blob sequences, so they never see these tags.

``version`` is the oldest format version able to read the summary: 1 for
dense, 2 for coo, 3 with ``class_counts`` or ``class_groups``, so older
readers keep reading what they can fully show. The encoding
depends only on C, so it never changes within a tag (TensorBoard keeps only a
tag's first metadata). Readers accept every version up to
:data:`FORMAT_VERSION` and refuse newer ones with
:class:`UnsupportedFormatError`. ``docs/format.md`` documents the format for
other tools; this module is the only code that knows it.

This module imports neither TensorFlow nor matplotlib: the TensorBoard plugin
uses it at start-up.

Example:
    >>> import numpy as np
    >>> meta = create_summary_metadata(["neg", "pos"])
    >>> info = parse_plugin_content(meta.plugin_data.content)
    >>> info.class_names, info.version, info.encoding
    (('neg', 'pos'), 1, 'dense')
    >>> decode_matrix(encode_matrix(np.array([[3, 1], [0, 2]])), info).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

from tb_imbalance.format.curves import (
    CurvesInfo,
    create_curves_metadata,
    curves_tag,
    decode_curves,
    encode_curves,
    parse_curves_content,
)
from tb_imbalance.format.examples import (
    create_examples_metadata,
    decode_examples_index,
    encode_examples,
    examples_tag,
    parse_examples_content,
)
from tb_imbalance.format.matrix import (
    COO,
    DENSE,
    DENSE_MAX_CLASSES,
    MatrixInfo,
    create_summary_metadata,
    decode_cells,
    decode_matrix,
    encode_matrix,
    encoding_for,
    parse_plugin_content,
)
from tb_imbalance.format.versions import (
    CURVES_SUFFIX,
    CURVES_VERSION,
    EXAMPLES_SUFFIX,
    EXAMPLES_VERSION,
    EXTRAS_VERSION,
    FORMAT_VERSION,
    PLUGIN_NAME,
    UnsupportedFormatError,
    newer_version,
)

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "DENSE_MAX_CLASSES",
    "EXTRAS_VERSION",
    "encoding_for",
    "UnsupportedFormatError",
    "newer_version",
    "MatrixInfo",
    "create_summary_metadata",
    "parse_plugin_content",
    "encode_matrix",
    "decode_matrix",
    "decode_cells",
    "EXAMPLES_VERSION",
    "EXAMPLES_SUFFIX",
    "examples_tag",
    "create_examples_metadata",
    "parse_examples_content",
    "encode_examples",
    "decode_examples_index",
    "CURVES_VERSION",
    "CURVES_SUFFIX",
    "CurvesInfo",
    "curves_tag",
    "create_curves_metadata",
    "parse_curves_content",
    "encode_curves",
    "decode_curves",
]
