"""Example counts of the harness' property tests: the ``fast`` profile (default test run, about two
minutes on 2 cores) and the ``long`` one, selected with ``LUTNET_HARNESS_PROFILE=long`` (or
``HYPOTHESIS_PROFILE=harness-long``).  ``benchmarks/bench_harness.py`` is the documented long run."""
from __future__ import annotations

import os

PROFILES = {
    "fast": {"ir": 25, "brevitas": 25, "qkeras": 8, "trees": 8, "dwn": 8, "icarus": 6, "full": 3, "postsynth": 2,
             "vectors": 500},
    "long": {"ir": 300, "brevitas": 200, "qkeras": 60, "trees": 60, "dwn": 100, "icarus": 60, "full": 20,
             "postsynth": 10, "vectors": 10_000},
}


def profile_name() -> str:
    if os.environ.get("HYPOTHESIS_PROFILE", "") == "harness-long":
        return "long"
    name = os.environ.get("LUTNET_HARNESS_PROFILE", "fast")
    if name not in PROFILES:
        raise ValueError(f"LUTNET_HARNESS_PROFILE={name!r}; known profiles: {', '.join(PROFILES)}")
    return name


def examples(kind: str) -> int:
    return PROFILES[profile_name()][kind]


def settings(kind: str, **kw):
    """Hypothesis settings for ``kind``: no deadline, derandomized in the fast profile (reproducible
    CI runs), random in the long one; no example database (tests never depend on past runs)."""
    from hypothesis import HealthCheck
    from hypothesis import settings as hsettings
    return hsettings(max_examples=examples(kind), deadline=None, derandomize=profile_name() == "fast",
                     database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                           HealthCheck.function_scoped_fixture], **kw)
