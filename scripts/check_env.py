"""Check that a test environment holds what its Keras backend needs.

Usage: python scripts/check_env.py tensorflow|jax|torch

Run by scripts/make_venv.sh after installing. Exits non-zero, naming the
problem, when the environment cannot test what it is meant to test:
TensorFlow installed in the JAX or PyTorch environment (the "no TensorFlow"
tests would prove nothing), or the backend's framework missing. Warns when
PyTorch is a CUDA build (several GB of nvidia-* packages: the CPU wheel was
not found).
"""

import importlib.metadata
import importlib.util
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def main(argv):
    if len(argv) != 2 or argv[1] not in BACKENDS:
        print(f"usage: {argv[0]} {'|'.join(BACKENDS)}", file=sys.stderr)
        return 2
    backend = argv[1]
    problems = []
    for module in ("tb_imbalance", "keras", backend):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is not installed")
    if backend != "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
        problems.append(
            f"tensorflow is installed in the {backend} environment ({sys.prefix}); "
            "it must not be: remove it (or `make clean`) and check the requirement files"
        )
    if backend == "torch" and not problems:
        version = importlib.metadata.version("torch")
        cuda = sorted(d.metadata["Name"] for d in importlib.metadata.distributions()
                      if (d.metadata["Name"] or "").lower().startswith("nvidia-"))
        if cuda or "+cpu" not in version:
            print(f"warning: torch {version} is not the CPU wheel (found {', '.join(cuda) or 'no +cpu tag'}); "
                  "the CPU build is much smaller", file=sys.stderr)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
