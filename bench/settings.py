"""Settings of the benchmark's server: the profile OPSCENTER_ENV names (production unless told), unchanged but
for its URLs, which add the bare floor (see bench/urls.py). Only the benchmark's gunicorn uses this module."""

import os
from importlib import import_module

_profile = import_module(f"opscenter.settings.{os.environ.get('OPSCENTER_ENV', 'production')}")
globals().update({name: value for name, value in vars(_profile).items() if name.isupper()})

ROOT_URLCONF = "bench.urls"
