"""Optimizers (SGD with momentum, Adagrad, RMSprop, Adam) and gradient clipping."""
