"""Phone numbers as Guichet reads them, the same for the registry import, the journeys and the outbox."""

from __future__ import annotations

import phonenumbers

# Overseas departments and communities share France's national numbering ("0690 12 34 56" is
# dialled as is from Paris) but have their own country codes; phonenumbers needs the region.
FRENCH_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT", "PM")
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def parse(text: str) -> phonenumbers.PhoneNumber | None:
    """A valid number, French (overseas included: without a country code) or international; else None."""
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(text or "", region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def is_mobile(number: phonenumbers.PhoneNumber) -> bool:
    """Whether text messages can reach it (a country that does not tell mobiles apart counts as yes)."""
    return phonenumbers.number_type(number) in _MOBILE


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
