"""The WSGI application that `guichet serve` (gunicorn) loads in each worker."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.project.settings")
application = get_wsgi_application()

# Django imports the URL configuration, and with it every view, on the first request: about half a
# second that the first member to reach a new worker would wait. Do it while the worker starts instead.
# (Nothing here opens a database or Redis connection, which each worker must open for itself.)
get_resolver().url_patterns  # noqa: B018 - evaluated for its import
