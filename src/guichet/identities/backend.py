"""Django's session user lookup, refusing accounts that are no longer active."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class AccountBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **credentials: Any) -> None:
        return None   # members sign in through journeys only

    def user_can_authenticate(self, user: Any) -> bool:
        return getattr(user, "state", None) == "active"
