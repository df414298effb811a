"""Postal address limits shared by the registry import (which refuses what letters cannot carry) and the
letters themselves (channels), so that the two can never disagree."""

from __future__ import annotations

# AFNOR NF Z10-011: six lines in France, a seventh for the country abroad. The recipient's name is the
# first line, so a registry address (without the name) has at most MAX_ADDRESS_LINES - 1 lines.
MAX_ADDRESS_LINES = 7
