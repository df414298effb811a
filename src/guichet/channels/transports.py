"""Handing one message to the outside world: an SMTP server, an SMS provider, a print shop's folder.

Each channel's transport is chosen by a URL setting (EMAIL_URL, SMS_URL, POSTAL_URL). `mailbox:`
delivers nowhere: the message only stays in the outbox, where the demo mailbox page shows it.
A transport either returns (delivered) or raises DeliveryError with a reason that is safe to store:
never a password, a token or the message's text.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import unicodedata
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from django.conf import settings

from guichet.channels.models import Message

SMTP_TIMEOUT_SECONDS = 20
SMS_TIMEOUT_SECONDS = 10
SMS_SENDER_MAX = 11  # alphanumeric sender IDs: at most 11 letters, digits and spaces
SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class DeliveryError(Exception):
    """Delivery failed. `permanent` failures (an address the server refuses) are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def deliver(message: Message) -> None:
    """Deliver one message through its channel's configured transport, or raise DeliveryError."""
    url = {Message.Channel.EMAIL: settings.EMAIL_URL, Message.Channel.SMS: settings.SMS_URL,
           Message.Channel.POSTAL: settings.POSTAL_URL}[Message.Channel(message.channel)]
    if url.startswith("mailbox:"):
        return
    parts = urlsplit(url)
    if message.channel == Message.Channel.EMAIL and parts.scheme in SMTP_PORTS:
        send_smtp(message, parts)
    elif message.channel == Message.Channel.SMS and parts.scheme in ("http", "https"):
        post_sms(message, parts)
    elif message.channel == Message.Channel.POSTAL and parts.scheme == "file":
        spool_letter(message, Path(unquote(parts.path)))
    else:
        raise DeliveryError(f"no {message.channel} transport for the scheme {parts.scheme!r} of its URL setting")


# Email ----------------------------------------------------------------------------------------------

def email_of(message: Message) -> EmailMessage:
    """The email as it goes on the wire; its Message-ID is the outbox row's, so a retry is recognisable."""
    sender = message.organisation.policy.email_from or settings.EMAIL_FROM
    domain = parseaddr(sender)[1].rpartition("@")[2] or "guichet.invalid"
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = f"<{message.id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email.set_content(message.body, charset="utf-8")
    email["Content-Language"] = message.language  # after set_content, which resets Content-* headers
    return email


def send_smtp(message: Message, url: SplitResult) -> None:
    host, port = url.hostname or "localhost", url.port or SMTP_PORTS[url.scheme]
    where = f"SMTP {host}:{port}"
    try:
        email = email_of(message)
        with _smtp_connection(url.scheme, host, port) as smtp:
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        raise DeliveryError(f"{where} refused the recipient ({codes})",
                            permanent=all(code >= 500 for code in codes)) from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(f"{where}: {error.smtp_code} {_text(error.smtp_error)}") from None
    except (smtplib.SMTPException, OSError, ValueError) as error:
        raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None


def _smtp_connection(scheme: str, host: str, port: int) -> smtplib.SMTP:
    tls = ssl.create_default_context()
    if scheme == "smtps":
        return smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=tls)
    smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    if scheme == "smtp+starttls":
        try:
            smtp.starttls(context=tls)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:200]


# SMS ------------------------------------------------------------------------------------------------

def sms_sender(message: Message) -> str:
    """The organisation's name as an alphanumeric sender: ASCII, at most 11 characters, whole words."""
    name = message.organisation.policy.name.get(message.language)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_name).split()
    sender = ""
    for word in words:
        candidate = f"{sender} {word}".strip()
        if len(candidate) > SMS_SENDER_MAX:
            break
        sender = candidate
    return sender or (words[0][:SMS_SENDER_MAX] if words else "Guichet")


def post_sms(message: Message, url: SplitResult) -> None:
    token = unquote(url.username or "")
    endpoint = url._replace(netloc=url.netloc.rpartition("@")[2]).geturl()  # the token goes in a header
    payload = {"to": message.recipient, "text": message.body.strip(), "sender": sms_sender(message)}
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               **({"Authorization": f"Bearer {token}"} if token else {})}
    # S310: deliver() only calls this for http and https URLs, never file:// or a custom scheme.
    request = urllib.request.Request(endpoint, json.dumps(payload).encode(), headers, method="POST")  # noqa: S310
    where = f"SMS provider {url.hostname}"
    try:
        with urllib.request.urlopen(request, timeout=SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        detail = _text(error.read() or b"")
        raise DeliveryError(f"{where} answered HTTP {error.code}: {detail}",
                            permanent=error.code in (400, 422)) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DeliveryError(f"{where}: {type(error).__name__}: {getattr(error, 'reason', error)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"{where} answered HTTP {status}")


# Postal ---------------------------------------------------------------------------------------------

def spool_letter(message: Message, folder: Path) -> None:
    """Write <id>.pdf then <id>.json: a print shop that waits for the .json finds a complete PDF."""
    if not message.attachment:
        raise DeliveryError("the letter has no PDF (erased or never made)", permanent=True)
    description = {
        "id": str(message.id),
        "organisation": message.organisation.slug,
        "organisation_name": message.organisation.policy.name.get(message.language),
        "address": message.recipient.splitlines(),
        "template": message.template,
        "language": message.language,
        "created_at": message.created_at.isoformat(),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(folder / f"{message.id}.pdf", bytes(message.attachment))
        _write_atomically(folder / f"{message.id}.json",
                          json.dumps(description, ensure_ascii=False, indent=2).encode())
    except OSError as error:
        raise DeliveryError(f"postal spool {folder}: {type(error).__name__}: {error.strerror}") from None


def _write_atomically(path: Path, content: bytes) -> None:
    # A file appears complete or not at all: written under a hidden name, flushed, then renamed.
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
