"""What members see when signing in through a provider does not end in their space."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guichet.journeys.paths import journey_path
from guichet.journeys.screens import Link, Notice, Screen
from guichet.oidc.provider.pages import screen_page
from guichet.organisations.models import Organisation
from guichet.policy.model import Upstream


def _name(upstream: Upstream) -> str:
    return "FranceConnect" if upstream.kind == "franceconnect" else upstream.label.get(get_language() or "fr")


def _support(organisation: Organisation) -> tuple[str, ...]:
    support = organisation.policy.support
    lines = []
    if support.phone:
        hours = f" ({support.hours.get(get_language() or 'fr')})" if support.hours else ""
        lines.append(_("By phone: %(phone)s%(hours)s") % {"phone": support.phone, "hours": hours})
    if support.email:
        lines.append(_("By email: %(email)s") % {"email": support.email})
    if support.url:
        lines.append(_("Contact page: %(url)s") % {"url": support.url})
    return tuple(lines)


def _other_ways(organisation: Organisation) -> tuple[Link, ...]:
    slug = organisation.slug
    return (Link(_("Sign in with my identifier and password"), journey_path(slug, "login")),
            Link(_("Forgot your password?"), journey_path(slug, "recovery")))


def not_found(request: HttpRequest, organisation: Organisation, upstream: Upstream, reason: str) -> HttpResponse:
    """The provider vouched for someone, but not for one of our members we can tell apart."""
    if reason == "disabled":
        text = _("Your online account is closed. Please contact us to open it again.")
    elif reason == "category":
        text = _("Signing in with %(provider)s is for individual members only. Please sign in with your "
                 "identifier and password.") % {"provider": _name(upstream)}
    elif reason in ("no_email", "identifier_taken", "linked_elsewhere"):
        text = _("We found your record, but we cannot open your online space this way. Please contact us.")
    else:
        text = _("%(provider)s told us who you are, but we could not find you in our records: your name or "
                 "date of birth may be written differently here. Please contact us, and have your member number "
                 "at hand.") % {"provider": _name(upstream)}
    screen = Screen(
        title=_("Please sign in with your identifier") if reason == "category" else
        _("We could not find you in our records"),
        notices=(Notice(f"federation.{reason}", text, "warning"),),
        paragraphs=(_("You can reach us:"), *_support(organisation)) if _support(organisation) else (),
        links=_other_ways(organisation),
    )
    return screen_page(request, organisation, screen)


def refused(request: HttpRequest, organisation: Organisation, upstream: Upstream) -> HttpResponse:
    screen = Screen(
        title=_("Signing in with %(provider)s did not work") % {"provider": _name(upstream)},
        notices=(Notice("federation.refused", _("Nothing was changed. Please try again from the start."), "error"),),
        links=(Link(_("Try again"), journey_path(organisation.slug, "login")), *_other_ways(organisation)[1:]),
    )
    return screen_page(request, organisation, screen, status=400)


def unavailable(request: HttpRequest, organisation: Organisation, upstream: Upstream) -> HttpResponse:
    screen = Screen(
        title=_("%(provider)s is not available at the moment") % {"provider": _name(upstream)},
        notices=(Notice("federation.unavailable", _("Please try again later, or sign in with your identifier "
                                                       "and password."), "warning"),),
        links=_other_ways(organisation),
    )
    return screen_page(request, organisation, screen, status=503)
