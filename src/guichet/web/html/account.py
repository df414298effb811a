"""The signed-in member's page: who they are, remembered devices, sign out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from guichet.identities import actions
from guichet.journeys.paths import journey_path, page_path
from guichet.organisations.resolve import by_slug
from guichet.security import devices
from guichet.security.ratelimit import client_ip
from guichet.web import outcomes
from guichet.web.html.pages import organisation_context


@never_cache
def space(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = by_slug(slug)
    account = outcomes.signed_in_account(request, slug)
    if account is None:
        request.session["next"] = request.path
        return redirect(journey_path(slug, "login"))
    return render(request, "guichet/account.html", organisation_context(organisation) | {
        "account": account, "devices": devices.active(account, timezone.now())})


@require_POST
def logout(request: HttpRequest, slug: str) -> HttpResponse:
    by_slug(slug)
    goes_on = outcomes.sign_out(request, client_ip(request), go_on=True)   # e.g. FranceConnect's sign-out
    return redirect(goes_on or page_path(slug) + "?deconnecte=1")


@require_POST
def forget_devices(request: HttpRequest, slug: str) -> HttpResponse:
    account = outcomes.signed_in_account(request, slug)
    if account is not None:
        actions.revoke_devices(account, now=timezone.now(), ip=client_ip(request))
    return redirect(page_path(slug, "espace"))
