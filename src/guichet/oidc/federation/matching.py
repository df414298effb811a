"""Recognising the person an upstream provider vouches for among the organisation's registry records.

Names go through registry.matching.name_key (case, accents, hyphens, spaces folded), the birth date
must be the same day. Only one record may match: two records that fit equally mean we cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from guichet.policy.model import Upstream
from guichet.registry.matching import name_key
from guichet.registry.models import MemberRecord


@dataclass(frozen=True)
class Match:
    record: MemberRecord | None
    reason: str   # "matched", or why not: "incomplete", "none", "ambiguous", "category"


def _birth_date(claims: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(claims.get("birthdate", "")))
    except ValueError:
        return None   # FranceConnect writes unknown days as 00: such a date cannot be matched


def _family_keys(claims: dict[str, Any]) -> set[str]:
    # FranceConnect's family_name is the birth name; preferred_username is the usage name (e.g. married
    # name), which is often what the organisation's registry holds.
    keys = {name_key(str(claims.get(claim, ""))) for claim in ("family_name", "preferred_username")}
    return keys - {""}


def _given_name_fits(claims: dict[str, Any], record: MemberRecord) -> bool:
    # given_name holds every first name ("Marie Claire Jeanne"); registries usually keep the first only.
    given = str(claims.get("given_name", ""))
    candidates = {name_key(given), name_key(given.split(" ")[0]) if given.strip() else ""} - {""}
    return bool(record.first_name_key) and record.first_name_key in candidates


def _fact_fits(claims: dict[str, Any], record: MemberRecord, claim: str) -> bool:
    held = record.facts.get(claim) if isinstance(record.facts, dict) else None
    told = claims.get(claim)
    return held is not None and told is not None and str(held).strip().casefold() == str(told).strip().casefold()


def find_record(organisation: Any, upstream: Upstream, claims: dict[str, Any]) -> Match:
    born, families = _birth_date(claims), _family_keys(claims)
    if born is None or not families or ("given_name" in upstream.match and not claims.get("given_name")):
        return Match(None, "incomplete")
    # A record no longer in the registry (missing from a complete import) is no one's.
    candidates = MemberRecord.objects.in_registry().filter(organisation=organisation, birth_date=born,
                                                           last_name_key__in=families)
    fitting = [
        record for record in candidates
        if ("given_name" not in upstream.match or _given_name_fits(claims, record))
        and all(_fact_fits(claims, record, fact) for fact in ("gender", "birthplace") if fact in upstream.match)
    ]
    if not fitting:
        return Match(None, "none")
    if len(fitting) > 1:
        return Match(None, "ambiguous")
    if upstream.categories and fitting[0].category not in upstream.categories:
        return Match(None, "category")   # found, but this way in is not for their kind of membership
    return Match(fitting[0], "matched")
