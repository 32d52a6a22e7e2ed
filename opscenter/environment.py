"""Selects the settings profile from OPSCENTER_ENV and turns configuration errors into one line."""

import contextlib
import os
import sys
from collections.abc import Iterator

PROFILES = ("development", "production", "test")


def configure() -> None:
    """Point DJANGO_SETTINGS_MODULE at the profile named by OPSCENTER_ENV (default: development)."""
    profile = os.environ.get("OPSCENTER_ENV", "development").strip() or "development"
    if profile not in PROFILES:
        sys.stderr.write(
            f"OpsCenter configuration error: OPSCENTER_ENV={profile!r} is not one of {', '.join(PROFILES)}\n"
        )
        raise SystemExit(2)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"opscenter.settings.{profile}")


@contextlib.contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Stop with one clear line instead of a traceback when a setting is missing or malformed."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        yield
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"OpsCenter configuration error: {exc}\n")
        raise SystemExit(2) from None
