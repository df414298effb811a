"""Where each journey lives, for links between journeys and for the URL routes (one source for both)."""

from __future__ import annotations

PATHS = {
    "login": "connexion",
    "registration": "inscription",
    "recovery": "mot-de-passe-oublie",
    "password_change": "mot-de-passe",
    "second_factor_enrolment": "double-authentification",
}


def journey_path(organisation_slug: str, journey: str) -> str:
    return f"/o/{organisation_slug}/{PATHS[journey]}/"


def page_path(organisation_slug: str, page: str = "") -> str:
    return f"/o/{organisation_slug}/{page + '/' if page else ''}"
