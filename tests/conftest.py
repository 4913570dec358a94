"""Settings every test module shares."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Hypothesis times its own input generation and each example. On a shared 2-core CI machine
# both swing by 10x with the load, so those checks would fail on the machine, not the code.
# Properties are still checked on every example; only the timing checks are off.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")
