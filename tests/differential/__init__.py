"""Differential tests: DuckDB, Polars and the reference evaluator agree on random inputs.

Hypothesis profiles, chosen with the ``HYPOTHESIS_PROFILE`` environment variable:

- ``ci`` (default): reproducible (``derandomize``), bounded to a few minutes on two cores. It
  does not shrink (each shrink step runs both engines, and shrinking a batch of segments over
  a few dozen rows takes far longer than the budget): the failure message already names the
  first differing segment and the rows of the entities involved.
- ``long``: 2,000 examples per test (12,000 for the module), shrinking failures, for a
  nightly or pre-release run.

The profile is applied to these tests only (not loaded globally), so that other Hypothesis
tests in the suite keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "ci",
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "long",
    max_examples=2_000,  # per test: 12,000 examples for the module, about 75 minutes
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
)

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
