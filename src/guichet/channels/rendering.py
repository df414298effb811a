"""Rendering a message from its templates, in the member's language, at the moment it is enqueued.

Messages are rendered when they are enqueued, not when they are delivered: the text a member receives
is the text of the moment of the cause (a code's lifetime, an organisation's name), whatever happens
to the templates or the policy before the worker delivers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from django.template import Context, Engine
from django.template.exceptions import TemplateDoesNotExist
from django.utils import translation

from guichet.organisations.models import Organisation

Part = Literal["email", "sms", "letter"]


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@cache
def _engine() -> Engine:
    # Plain text must not be HTML-escaped (“l'adhérent” would arrive as “l&#x27;adhérent”), so these
    # templates get their own engine rather than the site's, which escapes for HTML pages.
    return Engine(
        app_dirs=True,
        autoescape=False,
        libraries={"i18n": "django.templatetags.i18n"},
        builtins=["django.templatetags.i18n"],
    )


def language_of(language: str) -> str:
    """Guichet speaks French and English; anything else (en-GB, fr-BE, '') falls back sensibly."""
    return "en" if (language or "").lower().startswith("en") else "fr"


def organisation_context(organisation: Organisation, language: str) -> dict[str, Any]:
    """What every template may use besides its own context."""
    policy = organisation.policy
    support = policy.support
    return {
        "organisation_name": policy.name.get(language),
        "organisation_short_name": policy.display_name(language),
        "support_email": support.email or "",
        "support_phone": support.phone or "",
        "support_url": support.url or "",
        "support_hours": support.hours.get(language) if support.hours else "",
    }


def render(organisation: Organisation, template: str, part: Part, context: dict[str, Any],
           language: str) -> Rendered:
    """Subject and body of `channels/<template>.<part>.txt` in `language`.

    The subject comes from `channels/<template>.subject.txt` when it exists (an SMS may have none).
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", template):
        raise ValueError(f"a message template name is lower-case letters, digits and _, not {template!r}")
    language = language_of(language)
    full_context = {**organisation_context(organisation, language), **context}
    with translation.override(language):
        body = _render_file(f"channels/{template}.{part}.txt", full_context)
        try:
            subject = _render_file(f"channels/{template}.subject.txt", full_context)
        except TemplateDoesNotExist:
            if part != "sms":
                raise
            subject = ""
    return Rendered(subject=" ".join(subject.split()), body=_tidy(body))


def _render_file(name: str, context: dict[str, Any]) -> str:
    return _engine().get_template(name).render(Context(context, autoescape=False))


def _tidy(text: str) -> str:
    """Template tags leave trailing spaces and runs of blank lines; members should not see them."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
