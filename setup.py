"""Packaging for tb_imbalance.

TensorFlow is an optional extra: the TensorBoard plugin (and everything it
imports) runs without it, so ``tensorboard`` starts fast and lean. The
writers and Keras callback need TensorFlow ≥ 2.16 (Keras 3): install it
yourself, or with ``pip install "tb_imbalance[tensorflow]"`` (or
``[tensorflow-cpu]``).
"""

import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version() -> str:
    with open(os.path.join(HERE, "tb_imbalance", "__init__.py"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError("no __version__ in tb_imbalance/__init__.py")


setup(
    name="tb_imbalance",
    version=read_version(),
    description=(
        "Per-epoch confusion matrices, per-class metrics and imbalance-aware "
        "scores for Keras, with a TensorBoard dashboard to compare runs"
    ),
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=["tb_imbalance", "tb_imbalance.plugin", "tb_imbalance.plugin_static"],
    # The dashboard's ES modules live in the top-level plugin_static/ folder
    # and are installed as tb_imbalance/plugin_static/ (wheel and editable).
    package_dir={"tb_imbalance.plugin_static": "plugin_static"},
    package_data={"tb_imbalance.plugin_static": ["*.js", "*.css", "*/*.js", "*/*.css"]},
    include_package_data=False,
    install_requires=[
        "numpy>=1.23",
        "tensorboard>=2.16",
        "matplotlib>=3.7",
        "pillow>=9.5",
    ],
    extras_require={
        "tensorflow": ["tensorflow>=2.16"],
        "tensorflow-cpu": ["tensorflow-cpu>=2.16"],
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
