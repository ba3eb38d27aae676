"""Training: losses, truncated BPTT, the training loop, checkpoints and built-in tasks."""
