"""Pages that are not journeys: the list of organisations, an organisation's home, advice."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language

from guichet.journeys.paths import journey_path, page_path
from guichet.organisations.models import Organisation
from guichet.organisations.resolve import by_host, by_slug


def organisation_context(organisation: Organisation) -> dict[str, Any]:
    language = get_language() or "fr"
    policy = organisation.policy
    return {
        "organisation": organisation,
        "organisation_name": policy.display_name(language),
        "organisation_full_name": policy.name.get(language),
        "support_hours": policy.support.hours.get(language) if policy.support.hours else "",
    }


def index(request: HttpRequest) -> HttpResponse:
    """The list of organisations; on a host that a policy names (`hosts`), that organisation's home:
    a member who types espace.caisse.example lands on their own space, and sees no other organisation."""
    organisation = by_host(request.get_host())
    if organisation is not None:
        return redirect(page_path(organisation.slug))
    language = get_language() or "fr"
    organisations = [(o, o.policy.name.get(language)) for o in Organisation.objects.all()]
    return render(request, "guichet/index.html", {"organisations": organisations})


def home(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = by_slug(slug)
    return render(request, "guichet/home.html", organisation_context(organisation) | {
        "login_url": journey_path(slug, "login"), "registration_url": journey_path(slug, "registration"),
        "signed_out": "deconnecte" in request.GET, "session_expired": request.session.pop("expired", False),
    })


def security_advice(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = by_slug(slug)
    return render(request, "guichet/security_advice.html", organisation_context(organisation))
