"""The demo mailbox: every email, SMS and letter in the outbox (never served in production)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import BooleanField, Case, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language

from guichet.channels.models import Message

SHOWN = 200


def mailbox(request: HttpRequest) -> HttpResponse:
    _refuse_in_production()
    language = get_language() or "fr"
    # The PDFs stay in the database: the page only needs to know which letters have one.
    has_pdf = Case(When(channel=Message.Channel.POSTAL, attachment__isnull=False, then=True), default=False,
                   output_field=BooleanField())
    messages = (Message.objects.select_related("organisation").defer("attachment").annotate(has_pdf=has_pdf)
                .order_by("-created_at")[:SHOWN])
    rows = [(message, message.organisation.name(language)) for message in messages]
    return render(request, "guichet/mailbox.html", {"rows": rows, "shown": SHOWN})


def letter(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A letter's PDF, as the print shop receives it."""
    _refuse_in_production()
    message = Message.objects.filter(pk=pk, channel=Message.Channel.POSTAL).first()
    if message is None or not message.attachment:
        raise Http404("No such letter, or its PDF was erased after delivery.")
    response = HttpResponse(bytes(message.attachment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{message.pk}.pdf"'
    return response


def _refuse_in_production() -> None:
    # project/urls.py does not mount these views in production; this is the second lock on the door.
    if settings.PRODUCTION:
        raise Http404()


urlpatterns = [
    path("", mailbox, name="mailbox"),
    path("<uuid:pk>.pdf", letter, name="mailbox_letter"),
]
