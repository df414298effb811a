"""The demo mailbox: every email, SMS and letter in the outbox (never served in production)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from guichet.channels.models import Message


def mailbox(request: HttpRequest) -> HttpResponse:
    messages = Message.objects.select_related("organisation")[:200]
    return render(request, "guichet/mailbox.html", {"messages": messages})


urlpatterns = [path("", mailbox, name="mailbox")]
