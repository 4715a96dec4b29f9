"""``compiled_update(metric)``: a metric's update + result compiled the way a train step runs them.

TensorFlow: one XLA-compiled ``tf.function``; JAX: ``jax.jit`` of the
stateless API, the new values assigned back; PyTorch: ``torch.compile``.
Keras is imported by the caller (its backend decides).

Example:
    >>> step = compiled_update(BalancedAccuracy(3))  # doctest: +SKIP
    >>> float(step(labels, scores, weights))  # doctest: +SKIP
"""

import keras


def compiled_update(metric):
    """``step(labels, scores, weights)``: ``metric.update_state`` then ``metric.result()``, compiled."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def step(labels, scores, weights):
            metric.update_state(labels, scores, sample_weight=weights)
            return metric.result()

        return step
    if backend == "jax":
        import jax

        @jax.jit
        def stateless(values, labels, scores, weights):
            values = metric.stateless_update_state(values, labels, scores, sample_weight=weights)
            return values, metric.stateless_result(values)

        def step(labels, scores, weights):
            values, result = stateless([v.value for v in metric.variables], labels, scores, weights)
            for variable, value in zip(metric.variables, values):
                variable.assign(value)
            return result

        return step
    import torch

    @torch.compile
    def step(labels, scores, weights):
        metric.update_state(labels, scores, sample_weight=weights)
        return metric.result()

    return step
