"""Pages the provider and the federation show members, in the organisation's look."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guichet.journeys.paths import journey_path
from guichet.journeys.screens import Link, Screen
from guichet.organisations.models import Organisation
from guichet.web.html.pages import organisation_context


def screen_page(request: HttpRequest, organisation: Organisation, screen: Screen, status: int = 200) -> HttpResponse:
    return render(request, "guichet/screen.html", organisation_context(organisation) | {"screen": screen},
                  status=status)


def refused(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """A request no application of this organisation could have made: say so, redirect nowhere."""
    screen = Screen(
        title=_("This sign-in request cannot be accepted"),
        paragraphs=(_("The application that sent you here is not known to us, or its request is incomplete. "
                      "Go back to the application and try again; if this happens again, contact us."),),
        links=(Link(_("Go to your space"), journey_path(organisation.slug, "login")),),
    )
    return screen_page(request, organisation, screen, status=400)
