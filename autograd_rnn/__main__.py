"""``python -m autograd_rnn ...`` runs the ``autograd-rnn`` command line."""

import sys

from autograd_rnn.cli.main import main

sys.exit(main())
