"""Hypothesis profiles. ``make test`` (and CI) runs the property tests on a fixed set of
examples per test (``derandomize``): the same examples every run, so a red CI is a change's
doing, not a new draw. ``make explore`` draws new random examples each run, many more of them
(``HYPOTHESIS_PROFILE=explore``, with ``REL_MAX_EXAMPLES`` / ``REL_CLI_MAX_EXAMPLES`` for the
tests that read their count from the environment): that is how the compiler bugs of issue 16
were found. A failure it finds becomes a deterministic regression test."""

import os

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
