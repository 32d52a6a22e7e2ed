"""The embedded default: one box, SQLite and the filesystem broker under var/."""

from opscenter.settings.base import *  # noqa: F403
from opscenter.settings.base import env, setting

DEBUG = setting("DEBUG", env.bool, True)
