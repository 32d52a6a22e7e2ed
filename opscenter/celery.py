"""The Celery application: configured from Django settings, tasks discovered in every app."""

from celery import Celery

from opscenter.environment import configure

configure()

app = Celery("opscenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
