"""OpsCenter: the IT operations management system of an IT management center."""

from opscenter.celery import app as celery_app

__all__ = ("celery_app",)
