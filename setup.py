"""Packaging for tb_imbalance.

``pip install tb_imbalance`` gives the TensorBoard plugin and the
framework-free writers (``tb_imbalance.log_report`` / ``log_matrix`` /
``ReportWriter``): numpy, TensorBoard, Pillow and google-crc32c (a fast CRC
for event files; pure Python costs ~55 ms per 400 kB step). No deep-learning
framework is required: the writers accept lists, numpy arrays and the
tensors of whichever framework is installed.

Extras:
  [tensorflow] / [tensorflow-cpu]   Keras 3 on TensorFlow (the Keras callback and
                                    metrics, the tf.summary mirror).
  [jax]                             Keras 3 on JAX (pick your jaxlib build yourself,
                                    e.g. ``pip install "jax[cpu]"``).
  [torch]                           Keras 3 on PyTorch. Plain PyTorch users need no
                                    extra: log_report writes into a SummaryWriter.
  [matplotlib]                      matplotlib's DejaVu Sans for the confusion-matrix
                                    picture's labels (Pillow's built-in font otherwise).
"""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version() -> str:
    with open(os.path.join(HERE, "tb_imbalance", "__init__.py"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError("no __version__ in tb_imbalance/__init__.py")


KERAS = "keras>=3.4"

setup(
    name="tb_imbalance",
    version=read_version(),
    description=(
        "Per-epoch confusion matrices, per-class metrics and imbalance-aware "
        "scores for Keras (TensorFlow, JAX, PyTorch) and plain writers, with a "
        "TensorBoard dashboard to compare runs"
    ),
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    # Every package under tb_imbalance/ (tb_imbalance.plugin, tb_imbalance.keras, ...),
    # plus the dashboard's ES modules: they live in the top-level plugin_static/
    # folder and are installed as tb_imbalance/plugin_static/ (wheel and editable).
    packages=find_packages(include=["tb_imbalance", "tb_imbalance.*"]) + ["tb_imbalance.plugin_static"],
    package_dir={"tb_imbalance.plugin_static": "plugin_static"},
    package_data={"tb_imbalance.plugin_static": ["*.js", "*.css", "*/*.js", "*/*.css"]},
    include_package_data=False,
    install_requires=[
        "numpy>=1.23",
        "tensorboard>=2.16",
        "pillow>=9.5",
        "google-crc32c>=1.5",
    ],
    extras_require={
        "tensorflow": ["tensorflow>=2.16", KERAS],
        "tensorflow-cpu": ["tensorflow-cpu>=2.16", KERAS],
        "jax": ["jax>=0.4.30", KERAS],
        "torch": ["torch>=2.1", KERAS],
        "matplotlib": ["matplotlib>=3.7"],
    },
    entry_points={
        "tensorboard_plugins": [
            "imbalance = tb_imbalance.plugin:ImbalancePluginLoader",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
