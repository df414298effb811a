"""Test fixtures for channels: a real SMTP server (aiosmtpd), a real HTTP SMS endpoint, a postal spool.

Loaded for every test by the root conftest.py. Reading a code from a real email::

    def test_sign_in(client, pension, smtp_sink):
        ...                                   # something calls outbox.send_email(...)
        email = smtp_sink.last_to("marie@example.fr")   # delivers the outbox, waits for the email
        assert email.subject.startswith("Votre code")
        client.post(url, {"code": email.code})

`wait_for` and `last_to` first run the outbox worker (`deliver_all()`) in the test's thread, so a test
never starts a worker itself. In a live-server test the data must be committed (transaction=True).
Received emails are `email.message.EmailMessage` objects with extra properties: `to`, `subject`,
`body`, `code` (the line holding only the code or temporary password) and `link` (first URL).
The SMS sink gives the same helpers (`wait_for`, `last_to`, `.text`, `.code`, `.link`), and can be
told to fail: `sms_sink.answer_with(500)`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import pytest
from pytest_django.fixtures import Settings

_CODE = re.compile(r"^\s*([A-Za-z0-9!#$%&*+\-=?@^_~]{4,32})\s*$", re.MULTILINE)
_DIGITS = re.compile(r"(?<![\d/:])(\d{4,10})(?![\d/:])")
_LINK = re.compile(r"https?://\S+")


def deliver_all(now: Any = None) -> int:
    """Run the outbox worker until nothing is due; returns how many deliveries were tried."""
    from guichet.channels.worker import deliver_due

    total = 0
    for _round in range(1000):  # a safety net: deliver_due only returns 0 once nothing is due
        tried = deliver_due(now=now)
        if not tried:
            return total
        total += tried
    raise AssertionError("the outbox never emptied after 1000 rounds")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ReceivedEmail(EmailMessage):
    """An email as the SMTP server received it, with shortcuts for tests."""

    @property
    def to(self) -> str:
        return str(self["To"])

    @property
    def subject(self) -> str:
        return str(self["Subject"])

    @property
    def body(self) -> str:
        part = self.get_body(preferencelist=("plain",))
        return str(part.get_content()) if part is not None else ""

    @property
    def code(self) -> str:
        return _code_in(self.body)

    @property
    def link(self) -> str:
        return _link_in(self.body)


@dataclass
class ReceivedSms:
    to: str
    text: str
    sender: str
    authorization: str
    path: str

    @property
    def code(self) -> str:
        return _code_in(self.text, inline=True)

    @property
    def link(self) -> str:
        return _link_in(self.text)


def _code_in(text: str, *, inline: bool = False) -> str:
    standalone = [c for c in _CODE.findall(text) if any(ch.isdigit() for ch in c) and "://" not in c]
    if standalone:
        return str(standalone[0])
    found = _DIGITS.search(text) if inline else None
    if found is None:
        raise AssertionError(f"no code in this message:\n{text}")
    return found[1]


def _link_in(text: str) -> str:
    found = _LINK.search(text)
    if found is None:
        raise AssertionError(f"no link in this message:\n{text}")
    return found[0].rstrip(".,)")


Received = TypeVar("Received")


@dataclass
class _Sink(Generic[Received]):
    recipient_of: Callable[[Received], str]
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    @property
    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int = 1, timeout: float = 5, *, deliver: bool = True) -> list[Received]:
        """Deliver the outbox, then wait until at least `count` messages arrived; all of them, oldest first."""
        return self._wait(lambda items: len(items) >= count, f"{count} message(s)", timeout, deliver)

    def last_to(self, recipient: str, timeout: float = 5, *, deliver: bool = True) -> Received:
        """Deliver the outbox, then the latest message received for `recipient`."""
        def mine(items: list[Received]) -> list[Received]:
            return [i for i in items if recipient.lower() in self.recipient_of(i).lower()]

        return mine(self._wait(lambda items: bool(mine(items)), f"a message to {recipient}", timeout,
                               deliver))[-1]

    def _wait(self, done: Callable[[list[Received]], bool], what: str, timeout: float,
              deliver: bool) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            if deliver:
                deliver_all()
            items = self.messages
            if done(items) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not done(items):
            seen = ", ".join(self.recipient_of(i) for i in items) or "nothing"
            pytest.fail(f"waited {timeout} s for {what}; received: {seen}", pytrace=False)
        return items


# SMTP -----------------------------------------------------------------------------------------------

class SmtpSink(_Sink[ReceivedEmail]):
    url: str = ""
    envelopes: list[tuple[str, list[str]]]

    def __init__(self) -> None:
        super().__init__(recipient_of=lambda email: email.to)
        self.envelopes = []
        self.refused: set[str] = set()

    def refuse(self, address: str) -> None:
        """Answer “550 no such mailbox” for this recipient from now on (a permanent failure)."""
        self.refused.add(address.lower())

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        if not session.authenticated:  # the transport must log in with EMAIL_URL's credentials
            return "530 5.7.0 Authentication required"
        # _class makes it a ReceivedEmail; typeshed types the result from the policy (EmailMessage).
        parsed = cast(ReceivedEmail, BytesParser(_class=ReceivedEmail, policy=policy.default)
                      .parsebytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.add(parsed)
        return "250 Message accepted for delivery"


USER, PASSWORD = "guichet", "p@ss word/:%"  # characters that must be URL-encoded


@pytest.fixture
def smtp_sink(settings: Settings) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 (with login); EMAIL_URL points to it for this test."""
    from urllib.parse import quote

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        login = data.login.decode() if isinstance(data.login, bytes) else data.login
        password = data.password.decode() if isinstance(data.password, bytes) else data.password
        # handled=False: aiosmtpd answers “535 credentials invalid” itself (True would leave the client waiting)
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)

    # aiosmtpd warns about its own use of a deprecated attribute at each login: not our concern.
    aiosmtpd_log = logging.getLogger("mail.log")
    previous_level = aiosmtpd_log.level
    aiosmtpd_log.setLevel(logging.ERROR)
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    sink.url = f"smtp://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}"
    settings.EMAIL_URL = sink.url
    try:
        yield sink
    finally:
        controller.stop()
        aiosmtpd_log.setLevel(previous_level)


# SMS ------------------------------------------------------------------------------------------------

class SmsSink(_Sink[ReceivedSms]):
    url: str = ""
    token: str = "test-token"
    status: int = 200

    def __init__(self) -> None:
        super().__init__(recipient_of=lambda sms: sms.to)

    def answer_with(self, status: int) -> None:
        """Answer the next posts with this HTTP status (500 to make deliveries fail)."""
        self.status = status


def _sms_handler(sink: SmsSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = sink.status
            if status < 300:
                data = json.loads(raw)
                sink.add(ReceivedSms(to=data["to"], text=data["text"], sender=data["sender"],
                                     authorization=self.headers.get("Authorization", ""), path=self.path))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "queued"}' if status < 300 else b'{"error": "provider unavailable"}')

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def sms_sink(settings: Settings) -> Iterator[SmsSink]:
    """A real HTTP SMS provider on 127.0.0.1; SMS_URL points to it (with a bearer token)."""
    sink = SmsSink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _sms_handler(sink))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    sink.url = f"http://{sink.token}@127.0.0.1:{server.server_address[1]}/v1/sms"
    settings.SMS_URL = sink.url
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


# Postal ---------------------------------------------------------------------------------------------

@dataclass
class SpooledLetter:
    pdf: Path
    description: dict[str, Any]

    @property
    def text(self) -> str:
        """The PDF's text, as pypdf extracts it."""
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(self.pdf).pages)


@dataclass
class PostalSpool:
    path: Path

    def letters(self, *, deliver: bool = True) -> list[SpooledLetter]:
        """Deliver the outbox, then every complete letter in the spool (a .json beside its .pdf)."""
        if deliver:
            deliver_all()
        return [SpooledLetter(pdf=j.with_suffix(".pdf"), description=json.loads(j.read_text("utf-8")))
                for j in sorted(self.path.glob("*.json"), key=lambda p: p.stat().st_mtime)]

    def last(self) -> SpooledLetter:
        letters = self.letters()
        if not letters:
            pytest.fail(f"no letter in the postal spool {self.path}", pytrace=False)
        return letters[-1]


@pytest.fixture
def postal_spool(settings: Settings, tmp_path: Path) -> PostalSpool:
    """A print shop's folder; POSTAL_URL points to it."""
    spool = PostalSpool(tmp_path / "spool")
    settings.POSTAL_URL = spool.path.as_uri()
    return spool
