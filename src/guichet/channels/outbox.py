"""The outbox: the ONLY way Guichet sends anything to a member (email, text message, postal letter).

`send_email`, `send_sms` and `send_letter` render the message now and insert it as a `Message` row in
the caller's database transaction: the message is written atomically with its cause (a code, a lock,
an account), and if that transaction rolls back nothing is ever sent. The worker (`channels.worker`)
delivers committed rows later, at least once.

Adding a message: create the templates in `channels/templates/channels/` (any app's
`templates/channels/` folder works too), named after the message:

    <name>.subject.txt   one line; the email subject, the letter's “Objet”. NEVER put a secret in it:
                         the subject is kept after delivery, the body is erased (KEEP_DELIVERED_MESSAGE_BODIES),
                         and so it is when the worker gives up.
    <name>.email.txt     plain-text email body; end with {% include "channels/_signature.email.txt" %}
    <name>.sms.txt       a text message: short (160 characters if possible), no link when avoidable
    <name>.letter.txt    the letter's body, from “Madame, Monsieur,” to the closing formula; the
                         letterhead, date, address and support contacts are drawn by channels.letters

Write the English text in `{% blocktranslate trimmed %}` blocks (one block a paragraph), run
`guichet makemessages -l fr` in src/guichet/channels, translate in locale/fr/LC_MESSAGES/django.po and
compile. Every template receives its own context plus `organisation_name`, `organisation_short_name`,
`support_email`, `support_phone`, `support_url` and `support_hours`. Lazy translations passed in the
context (gettext_lazy) are rendered in the message's language.

Bundled messages and their context: login_code (code, minutes), link (url, hours, purpose, optional
title), temporary_password (password, optional days), account_locked (until: an aware datetime),
factor_enrolled (when: an aware datetime, method: email/sms/totp/passkey, mobile: masked or ""),
notice (title, text).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from guichet.channels.letters import AddressTooWide, letter_pdf
from guichet.channels.models import Message
from guichet.channels.rendering import Part, language_of, render
from guichet.core import phones
from guichet.core.postal import MAX_ADDRESS_LINES
from guichet.organisations.models import Organisation

_committed = threading.Event()


class RecipientError(ValueError):
    """The email address, phone number or postal address cannot receive a message."""


def send_email(organisation: Organisation, *, to: str, template: str, context: dict[str, Any],
               language: str, account_id: uuid.UUID | None = None) -> Message:
    """Enqueue an email to `to`, rendered from `channels/<template>.email.txt`."""
    return _enqueue(organisation, Message.Channel.EMAIL, email_address(to), template, "email", context,
                    language, account_id)


def send_sms(organisation: Organisation, *, to: str, template: str, context: dict[str, Any],
             language: str, account_id: uuid.UUID | None = None) -> Message:
    """Enqueue a text message to `to` (any French or international writing; stored as E.164)."""
    return _enqueue(organisation, Message.Channel.SMS, phone_number(to), template, "sms", context,
                    language, account_id)


def send_letter(organisation: Organisation, *, address: str | Sequence[str], template: str,
                context: dict[str, Any], language: str, account_id: uuid.UUID | None = None) -> Message:
    """Enqueue a postal letter; its PDF is made now and stored with the message.

    `address` is the address block, one line an item (or lines separated by newlines), name first. Raises
    RecipientError (nothing is enqueued) for more than MAX_ADDRESS_LINES lines, or a line too wide for the
    envelope's window even in the smallest letters (channels.letters.ADDRESS_SIZES_PT).
    """
    lines = address_lines(address)
    message = _build(organisation, Message.Channel.POSTAL, "\n".join(lines), template, "letter", context,
                     language, account_id)
    try:
        message.attachment = letter_pdf(organisation=organisation, address=lines, subject=message.subject,
                                        body=message.body, language=message.language, reference=message.id)
    except AddressTooWide as error:
        raise RecipientError(_("The address line “%(line)s” is too wide for the envelope window.")
                             % {"line": error.line}) from None
    return _save(message)


def latest_letter(account_id: uuid.UUID, *, templates: Collection[str], since: datetime) -> datetime | None:
    """When the account's latest letter of these templates was made, if after `since`; letters the print
    shop refused (failed) never left, and do not count."""
    return (Message.objects.filter(account_id=account_id, channel=Message.Channel.POSTAL, template__in=templates,
                                   created_at__gt=since).exclude(status=Message.Status.FAILED)
            .order_by("-created_at").values_list("created_at", flat=True).first())


def email_address(value: str) -> str:
    address = (value or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise RecipientError(_("“%(value)s” is not an email address.") % {"value": value}) from None
    return address


def phone_number(value: str) -> str:
    """The number in E.164 form (+33612345678); numbers without a country code are French (overseas
    included). Only a valid mobile number (or one of a country that does not tell mobiles apart) can get a
    text message: a landline or a number no one can have is refused."""
    number = phones.parse(value)
    if number is None:
        raise RecipientError(_("“%(value)s” is not a valid phone number.") % {"value": value})
    if not phones.is_mobile(number):
        raise RecipientError(_("“%(value)s” is not a mobile phone number: text messages cannot reach it.")
                             % {"value": value})
    return phones.e164(number)


def address_lines(address: str | Sequence[str]) -> list[str]:
    raw = address.splitlines() if isinstance(address, str) else list(address)
    lines = [" ".join(str(line).split()) for line in raw]
    lines = [line for line in lines if line]
    if not lines:
        raise RecipientError(_("A postal address needs at least one line."))
    if len(lines) > MAX_ADDRESS_LINES:
        raise RecipientError(_("A postal address has at most %(most)d lines, not %(count)d.")
                             % {"most": MAX_ADDRESS_LINES, "count": len(lines)})
    return lines


def postal_address(name: str, address: str) -> list[str]:
    """The address block of a letter to `name` at a registry address (lines separated by newlines)."""
    if not address.strip():
        raise RecipientError(_("There is no postal address."))
    return address_lines([name, *address.splitlines()])


def wait_for_new(timeout: float) -> bool:
    """Block until a transaction that enqueued a message commits in this process, or `timeout`.

    The in-process worker of the demo uses it to deliver at once instead of at its next poll.
    """
    arrived = _committed.wait(timeout)
    _committed.clear()
    return arrived


def _enqueue(organisation: Organisation, channel: str, recipient: str, template: str, part: Part,
             context: dict[str, Any], language: str, account_id: uuid.UUID | None) -> Message:
    return _save(_build(organisation, channel, recipient, template, part, context, language, account_id))


def _build(organisation: Organisation, channel: str, recipient: str, template: str, part: Part,
           context: dict[str, Any], language: str, account_id: uuid.UUID | None) -> Message:
    language = language_of(language)
    rendered = render(organisation, template, part, context, language)
    return Message(organisation=organisation, account_id=account_id, channel=channel, template=template,
                   language=language, recipient=recipient, subject=rendered.subject[:300], body=rendered.body)


def _save(message: Message) -> Message:
    message.save(force_insert=True)
    transaction.on_commit(_committed.set)
    return message
