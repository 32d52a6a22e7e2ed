"""WSGI entry point for gunicorn."""

from opscenter.environment import configure, exit_on_configuration_error

configure()

with exit_on_configuration_error():
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
