"""Tests that run in all three environments (TensorFlow, JAX, PyTorch); see conftest.py."""
