"""/o/<slug>/federation/<provider>/start and /callback: signing a member in through an upstream provider;
/sign-out and /signed-out: ending the member's session there too when they sign out of Guichet.

```mermaid
stateDiagram-v2
    [*] --> start: button on the sign-in page
    start --> provider: state, nonce, PKCE kept in the session
    provider --> callback
    callback --> refused: state, code, ID token, nonce, acr or userinfo wrong
    callback --> not_found: no single registry record fits
    callback --> signed_in: account known, linked or opened (provider and ID token kept in the session)
    signed_in --> sign_out: member signs out, here or from an application (ID token carried to the new session)
    sign_out --> signed_out_page: end_session off, provider unreachable or without end_session_endpoint
    sign_out --> end_session: state kept, id_token_hint and post_logout_redirect_uri sent
    end_session --> signed_out: provider ended its session
    signed_out --> signed_out_page: state right (audited signed_out) or wrong (audited refused)
    signed_out_page --> [*]: the signed-out page, or the application's post_logout_redirect_uri
```
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from oauth2_provider.http import OAuth2ResponseRedirect

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


def _signed_out_uri(slug: str, provider: str) -> str:
    return settings.BASE_URL + reverse("oidc:federation_signed_out", args=[slug, provider])


def _session_key(slug: str, provider: str) -> str:
    return f"federation:{slug}:{provider}"


def _sign_out_key(slug: str, provider: str) -> str:
    return f"federation:{slug}:{provider}:sign_out"


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
    if upstream.end_session:
        # After sign_in, which starts a new session: what ending the provider's session will need.
        outcomes.sign_out_goes_on(request, reverse("oidc:federation_sign_out", args=[slug, provider]),
                                  provider=provider, id_token=identity.id_token, account_id=str(result.account.pk))
    if isinstance(wanted, str) and wanted.startswith(f"/o/{slug}/"):
        return HttpResponseRedirect(wanted)
    return HttpResponseRedirect(page_path(slug, "espace"))


def _pending(kept: object, state: str) -> provider_api.Pending:
    if not isinstance(kept, dict) or not state:
        raise provider_api.UpstreamError("state", "no sign-in was started from this browser")
    pending = provider_api.Pending(state=kept["state"], nonce=kept["nonce"], verifier=kept["verifier"])
    if not secrets.compare_digest(pending.state.encode(), state.encode()):
        raise provider_api.UpstreamError("state", "the state sent back is not the one we sent")
    return pending


@never_cache
@require_GET
def sign_out(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """Where the member's sign-out goes on once Guichet's session has ended (web.outcomes.sign_out):
    on to the provider's end_session_endpoint, or, when that cannot be, straight to the signed-out page.
    The member is signed out of Guichet either way."""
    organisation = by_slug(slug)
    kept = request.session.pop(outcomes.SIGN_OUT_GOES_ON, None)   # single use, whatever happens next
    if not isinstance(kept, dict) or kept.get("path") != request.path or kept.get("provider") != provider:
        return HttpResponseRedirect(page_path(slug))   # not sent here by a sign-out: nothing to do
    ip, account_id = client_ip(request), kept.get("account_id")
    upstream = organisation.policy.login.enabled_upstreams().get(provider)
    state = secrets.token_urlsafe(32)
    try:
        if upstream is None or not upstream.end_session:
            raise provider_api.UpstreamError("off", "the provider is switched off, or its end_session option")
        url = provider_api.end_session_url(upstream, id_token_hint=str(kept.get("id_token", "")), state=state,
                                           post_logout_redirect_uri=_signed_out_uri(slug, provider))
    except provider_api.UpstreamError as error:
        log.warning("signing out of %s for %s: Guichet only (%s)", provider, slug, error)
        record("federation.sign_out_skipped", organisation=organisation, account_id=account_id, ip=ip,
               provider=provider, reason=error.reason)
        return _leave(slug, kept.get("then"))
    request.session[_sign_out_key(slug, provider)] = {"state": state, "account_id": account_id,
                                                      "then": kept.get("then", "")}
    record("federation.signing_out", organisation=organisation, account_id=account_id, ip=ip, provider=provider)
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def signed_out(request: HttpRequest, slug: str, provider: str) -> HttpResponse:
    """The provider's post_logout_redirect_uri. The member is already signed out of Guichet, so a wrong
    state only changes what is audited."""
    organisation = by_slug(slug)
    if provider not in organisation.policy.login.federation:
        raise Http404("no such provider for this organisation")
    kept = request.session.pop(_sign_out_key(slug, provider), None)   # single use, whatever happens next
    state = request.GET.get("state", "")
    ip = client_ip(request)
    if isinstance(kept, dict) and state and secrets.compare_digest(str(kept["state"]).encode(), state.encode()):
        record("federation.signed_out", organisation=organisation, account_id=kept.get("account_id"), ip=ip,
               provider=provider)
    else:
        log.warning("signing out of %s for %s: the state sent back is not one we sent, or was used", provider, slug)
        record("federation.sign_out_refused", organisation=organisation, ip=ip, provider=provider,
               reason="state" if kept is not None else "not_started",
               account_id=kept.get("account_id") if isinstance(kept, dict) else None)
    return _leave(slug, kept.get("then") if isinstance(kept, dict) else "")


def _leave(slug: str, then: object) -> HttpResponse:
    """The signed-out page, as web.html.account.logout; or, when an application asked for the sign-out,
    its post_logout_redirect_uri (checked by oidc.provider.logout, then kept in the session only)."""
    if isinstance(then, str) and then:
        return OAuth2ResponseRedirect(then, [urlsplit(then).scheme])
    return HttpResponseRedirect(page_path(slug) + "?deconnecte=1")
