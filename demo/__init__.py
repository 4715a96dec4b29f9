"""tb_imbalance's first-run demo: imbalanced data, three training strategies, one dashboard.

Run it from the repository root::

    python -m demo            # train 6 runs into runs/, then serve them in TensorBoard
    python -m demo --help     # every option

It trains a small Keras network on two imbalanced data sets bundled with
scikit-learn (:mod:`demo.data`) three ways each — plain, with class weights,
with random oversampling (:mod:`demo.train`) — logging every epoch's
validation confusion matrix with
:class:`tb_imbalance.keras.ClassificationReportCallback`, prints a summary
table, and opens TensorBoard's Imbalance tab (:mod:`demo.serve`).
"""
