"""argon2id with parameters from the environment (OWASP defaults: 19 MiB, 2 iterations, 1 lane)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2"  # Django's format: argon2$argon2id$v=19$m=...,t=...,p=...$salt$hash

    # Django reads these as plain attributes (django-stubs declares them so); properties read the settings
    # at each use, hence the override ignores below.

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
