"""Every journey, by name."""

from __future__ import annotations

from guichet.journeys.engine import Journey
from guichet.journeys.login import LOGIN
from guichet.journeys.password_change import PASSWORD_CHANGE
from guichet.journeys.recovery import RECOVERY
from guichet.journeys.registration import REGISTRATION
from guichet.journeys.second_factor_enrolment import SECOND_FACTOR_ENROLMENT

JOURNEYS: dict[str, Journey] = {journey.name: journey for journey in (
    LOGIN, REGISTRATION, RECOVERY, PASSWORD_CHANGE, SECOND_FACTOR_ENROLMENT)}
