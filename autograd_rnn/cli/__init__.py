"""The ``autograd-rnn`` command line: argument parsing only, no maths.

Each subcommand lives in its own module ``cmd_<name>.py`` exposing
``register(subparsers)``; ``main`` discovers them in sorted order.
"""
