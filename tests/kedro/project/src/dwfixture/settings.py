"""Project settings: the hook that records every hook call."""

from dwfixture.hooks import RecordingHooks

HOOKS = (RecordingHooks(),)
