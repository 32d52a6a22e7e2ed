"""The test profile: fast hashing, mail kept in memory, services from the environment."""

from opscenter.settings.base import *  # noqa: F403
from opscenter.settings.base import VAR_DIR, env, setting

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = setting("EMAIL_BACKEND", env.str, "django.core.mail.backends.locmem.EmailBackend")
MEDIA_ROOT = VAR_DIR / "test-media"
LANGUAGE_CODE = "en"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A small ticket model that exercises the workflow kernel in its own tests.
INSTALLED_APPS = [*INSTALLED_APPS, "opscenter.core.tests.workflow_app"]

# Unit tests deliver after commit in-process; the worker integration tests switch this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# One process runs the tests (and the browser tests' live server, in a thread): the cache in memory.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Read roles, teams and permissions on every request, so that the pinned query counts describe a first
# request; opscenter/core/tests/test_access.py turns the cache on to test it.
ACCESS_CACHE_SECONDS = 0

# The sign-in lockout stays on, out of the way of tests that sign in many times; the lockout tests set their limit.
AXES_FAILURE_LIMIT = 1000
