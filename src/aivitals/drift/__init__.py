"""Drift: reference profiles, streaming recording against them, PromQL for the rules, and an offline CLI.

Imports numpy (through :mod:`aivitals.stats`); ``aivitals`` itself does not import this package.
"""

from __future__ import annotations

from .profile import PREDICTION, FeatureProfile, Profile, ProfileError, build_profile, load_profile, save_profile
from .recorder import DriftRecorder

__all__ = [
    "PREDICTION",
    "DriftRecorder",
    "FeatureProfile",
    "Profile",
    "ProfileError",
    "build_profile",
    "load_profile",
    "save_profile",
]
