"""The Imbalance dashboard: a TensorBoard plugin reading tb_imbalance summaries.

TensorBoard finds :class:`ImbalancePluginLoader` through the
``tensorboard_plugins`` entry point declared in ``setup.py``. Importing this
package loads neither TensorFlow, Keras nor matplotlib.

Example:
    >>> from tensorboard.plugins import base_plugin
    >>> from tb_imbalance.plugin import ImbalancePluginLoader
    >>> plugin = ImbalancePluginLoader().load(base_plugin.TBContext(data_provider=None))
    >>> plugin.plugin_name
    'imbalance'
"""

from tb_imbalance.plugin.backend import ImbalancePlugin, ImbalancePluginLoader

__all__ = ["ImbalancePlugin", "ImbalancePluginLoader"]
