"""Sessions in Redis (when REDIS_URL is set): Django's cache session store, with fewer round trips and
no gap in which an ended session can come back.

- A new key is not looked up first: saving a new session adds it only if the key is free (SET NX) and
  draws another key otherwise, so the lookup Django makes before it is redundant.
- Saving an existing session writes it only if it still exists, in one command (SET XX). Django reads the
  key and then writes it: a session ended on another node between the two (an agent's "end all sessions",
  a sign-out in another tab) would be written back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import cache
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.utils.crypto import get_random_string

from guichet.project.redis_cache import SharedClientRedisCache


class SessionStore(cache.SessionStore):
    # What Django's store has and its type stubs leave out:
    _cache: SharedClientRedisCache   # settings: this store is chosen only with REDIS_URL, and so is this cache
    _get_session: Any

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None or must_create:
            return super().save(must_create=must_create)
        if not self._cache.set_if_present(self.cache_key, self._get_session(), self.get_expiry_age()):
            raise UpdateError
        return None
