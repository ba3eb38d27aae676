"""The ``autograd-rnn`` command line: argument parsing only, no maths.

Each subcommand lives in its own module ``cmd_<name>.py`` exposing
``register(subparsers)``; ``main`` discovers them in sorted order. ``register`` makes the
command's parser with ``options.add_command`` (texts ``HELP`` and ``DESCRIPTION``) and adds
its options, the shared ones (cell, sizes, seed, --overwrite, --force) from ``options``.
"""
