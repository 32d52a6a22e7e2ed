"""WSGI entry point for gunicorn."""

import gc

from opscenter.environment import configure, exit_on_configuration_error

configure()

with exit_on_configuration_error():
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

# What start-up loaded (Django, the apps, the URL and template machinery: about 150,000 objects) lives as
# long as the process. Frozen, the garbage collector stops walking it: its full collections, tens of
# milliseconds each, fell on one request in forty.
gc.freeze()
