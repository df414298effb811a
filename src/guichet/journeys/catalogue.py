"""Every journey, by name."""

from __future__ import annotations

from guichet.journeys.engine import Journey
from guichet.journeys.login import LOGIN

JOURNEYS: dict[str, Journey] = {journey.name: journey for journey in (LOGIN,)}
