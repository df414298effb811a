from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language

from guichet.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("guichet.web.urls")),
    path("agents/", include("guichet.backoffice.urls")),
    path("", include("guichet.oidc.urls")),
]

if not settings.PRODUCTION:
    from guichet.web.html import mailbox

    urlpatterns.append(path("_mailbox/", include(mailbox.urlpatterns)))
