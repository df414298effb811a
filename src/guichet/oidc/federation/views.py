"""/o/<slug>/federation/<provider>/start and /callback: signing a member in through an upstream provider.

```mermaid
stateDiagram-v2
    [*] --> start: button on the sign-in page
    start --> provider: state, nonce, PKCE kept in the session
    provider --> callback
    callback --> refused: state, code, ID token, nonce, acr or userinfo wrong
    callback --> not_found: no single registry record fits
    callback --> [*]: account known, linked or opened (signed in)
```
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from guichet.audit.record import record
from guichet.journeys.paths import page_path
from guichet.journeys.screens import SignedIn
from guichet.oidc.federation import upstream as provider_api
from guichet.oidc.federation.linking import recognise
from guichet.oidc.federation.pages import not_found, refused, unavailable
from guichet.organisations.models import Organisation
from guichet.organisations.resolve import by_slug
from guichet.policy.model import Upstream
from guichet.security.ratelimit import client_ip
from guichet.web import outcomes
from guichet.web.context import context_for

log = logging.getLogger(__name__)


def _upstream(slug: str, provider: str) -> tuple[Organisation, Upstream]:
    organisation = by_slug(slug)
    upstream = organisation.policy.login.enabled_upstreams().get(provider)
    if upstream is None:
        raise Http404("no such provider for this organisation")
    return organisation, upstream


def _callback_uri(slug: str, provider: str) -> str:
    return settings.BASE_URL + reverse("oidc:federation_callback", args=[slug, provider])


def _session_key(slug: str, provider: str) -> str:
    return f"federation:{slug}:{provider}"


@never_cache
@require_GET
def start(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    organisation, upstream = _upstream(slug, provider)
    try:
        url, pending = provider_api.authorization(upstream, _callback_uri(slug, provider))
    except provider_api.UpstreamError as error:
        log.error("federation with %s for %s is unavailable: %s", provider, slug, error)
        record("federation.unavailable", organisation=organisation, ip=client_ip(request), provider=provider,
               reason=error.reason)
        return unavailable(request, organisation, upstream)
    request.session[_session_key(slug, provider)] = pending.to_session()
    record("federation.started", organisation=organisation, ip=client_ip(request), provider=provider)
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def callback(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    organisation, upstream = _upstream(slug, provider)
    ip = client_ip(request)
    kept = request.session.pop(_session_key(slug, provider), None)   # single use, whatever happens next
    try:
        pending = _pending(kept, request.GET.get("state", ""))
        if "error" in request.GET:
            raise provider_api.UpstreamError("provider_error", request.GET.get("error", "")[:100])
        identity = provider_api.identity(upstream, _callback_uri(slug, provider), pending,
                                         request.GET.get("code", ""))
    except provider_api.UpstreamError as error:
        record("federation.refused", organisation=organisation, ip=ip, provider=provider, reason=error.reason)
        log.warning("federation with %s for %s refused: %s", provider, slug, error)
        return refused(request, organisation, upstream)
    ctx = context_for(request, organisation)
    result = recognise(organisation, provider, upstream, identity, now=ctx.now, ip=ip)
    if result.account is None:
        return not_found(request, organisation, upstream, result.reason)
    wanted = request.session.pop("next", "")
    outcomes.sign_in(request, ctx, SignedIn(account_id=result.account.pk, method=f"federation:{provider}"))
    if isinstance(wanted, str) and wanted.startswith(f"/o/{slug}/"):
        return HttpResponseRedirect(wanted)
    return HttpResponseRedirect(page_path(slug, "espace"))


def _pending(kept: object, state: str) -> provider_api.Pending:
    if not isinstance(kept, dict) or not state:
        raise provider_api.UpstreamError("state", "no sign-in was started from this browser")
    pending = provider_api.Pending(state=kept["state"], nonce=kept["nonce"], verifier=kept["verifier"])
    if not secrets.compare_digest(pending.state, state):
        raise provider_api.UpstreamError("state", "the state sent back is not the one we sent")
    return pending

