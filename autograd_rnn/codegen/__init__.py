"""Compile a recorded graph into readable NumPy source for its forward and backward."""
