"""What both renderers do when a journey ends with a signed-in member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse

from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.journeys.screens import SignedIn
from guichet.security import devices

BACKEND = "guichet.identities.backend.AccountBackend"
# Set by a sign-in through an upstream provider (oidc.federation), whose session must end with ours:
# {"path": one of our addresses where the member's sign-out goes on, ...what that address needs}.
SIGN_OUT_GOES_ON = "sign_out_goes_on"


def sign_in(request: HttpRequest, ctx: Context, outcome: SignedIn) -> str | None:
    """Opens the session (with a new session key) and returns a remembered-device token, if asked."""
    account = outcome.account or Account.objects.get(pk=outcome.account_id, organisation=ctx.organisation)
    assert account.organisation_id == ctx.organisation.pk and str(account.pk) == str(outcome.account_id)
    account.organisation = ctx.organisation   # already loaded: the audit record need not read it again
    auth.login(request, account, backend=BACKEND)   # cycles the session key: no session fixation
    request.session.pop(SIGN_OUT_GOES_ON, None)   # left by an earlier sign-out that did not go on; not ours
    request.session["organisation"] = ctx.organisation.slug
    request.session["signed_in_at"] = request.session["seen_at"] = ctx.now.timestamp()
    request.session["method"] = outcome.method
    actions.record_sign_in(account, now=ctx.now, ip=ctx.ip, method=outcome.method, language=ctx.language)
    if outcome.remember_device_days:
        return actions.remember_device(account, days=outcome.remember_device_days, label=ctx.user_agent,
                                       now=ctx.now, ip=ctx.ip)
    return None


def keep_session(request: HttpRequest) -> None:
    """After a journey that may have changed the signed-in member's own password: this session stays
    valid, while every other session of the account ends at its next request (Django's session hash).

    Only a change made during this request can differ here: the hash was checked when it began."""
    if request.user.is_authenticated:
        account = Account.objects.filter(pk=request.user.pk).first()
        if account is not None:
            auth.update_session_auth_hash(request, account)


def set_device_cookie(response: HttpResponse, organisation_slug: str, token: str, days: int) -> None:
    response.set_cookie(devices.cookie_name(organisation_slug), token,
                        max_age=int(timedelta(days=days).total_seconds()), path=f"/o/{organisation_slug}/",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")


def signed_in_account(request: HttpRequest, organisation_slug: str) -> Account | None:
    """The member signed in to this organisation, if any (a session never crosses organisations)."""
    if request.user.is_authenticated and request.session.get("organisation") == organisation_slug:
        return request.user
    return None


class SessionSignIn(NamedTuple):
    at: datetime
    method: str   # SignedIn.method: "password", "password+code", "password+passkey", "federation:<name>"...


def session_sign_in(request: HttpRequest, organisation_slug: str) -> SessionSignIn | None:
    """When and how the session signed in to this organisation (as sign_in recorded it), if it did."""
    at = request.session.get("signed_in_at")
    if signed_in_account(request, organisation_slug) is None or not isinstance(at, int | float):
        return None
    return SessionSignIn(datetime.fromtimestamp(at, tz=UTC), str(request.session.get("method", "")))


def sign_out_goes_on(request: HttpRequest, path: str, **carried: str) -> None:
    """After sign_in: when this member signs out, their browser goes on to `path` (one of our addresses),
    whose view finds `carried` in the new session (pop it: outcomes.SIGN_OUT_GOES_ON)."""
    request.session[SIGN_OUT_GOES_ON] = carried | {"path": path}


def sign_out(request: HttpRequest, ip: str, reason: str = "member", *, go_on: bool = False,
             then: str = "") -> str | None:
    """Ends the session (flushed, new key). With go_on (the member asked to sign out, in a browser), a
    session opened through an upstream provider keeps what ending it there needs in the new session, and
    the path to send the browser to is returned; otherwise None. Guichet's own session ends either way.

    `then`: where the browser goes once signed out there, instead of the signed-out page (an application's
    checked post_logout_redirect_uri)."""
    goes_on = request.session.get(SIGN_OUT_GOES_ON) if request.user.is_authenticated else None
    if request.user.is_authenticated:
        actions.sign_out(request.user, ip=ip, reason=reason)
    auth.logout(request)   # flushes the session and its key
    if go_on and isinstance(goes_on, dict) and isinstance(goes_on.get("path"), str):
        request.session[SIGN_OUT_GOES_ON] = goes_on | ({"then": then} if then else {})
        return str(goes_on["path"])
    return None
