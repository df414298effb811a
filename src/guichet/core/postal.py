"""Postal address limits shared by the registry import (which refuses what letters cannot carry) and the
letters themselves (channels), so that the two can never disagree."""

from __future__ import annotations

# AFNOR NF Z10-011: six lines in France, a seventh for the country abroad. The recipient's name is the
# first line, so a registry address (without the name) has at most MAX_ADDRESS_LINES - 1 lines.
MAX_ADDRESS_LINES = 7
# AFNOR NF Z10-011: at most 38 characters a line. The registry import refuses longer address lines; names
# are not cut to it (members must be able to type their name as the registry has it): a letter shrinks a long
# line to fit its window, and refuses to be made when even the smallest size does not fit.
MAX_ADDRESS_LINE_LENGTH = 38
