"""Postal letters as PDF (A4), ready for a print shop that folds them into a French DL window envelope.

The address block sits where the window of a standard French DL envelope (110 × 220 mm, window
45 × 100 mm on the right, 20 mm from the right edge and 15 mm from the bottom) shows it once the A4
sheet is folded in three; small fold marks in the left margin guide manual folding.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from guichet.organisations.models import Organisation

FONT_DIRECTORIES = [  # Debian/Ubuntu (fonts-dejavu-core), Fedora, Alpine, Arch
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
]
FONT = "DejaVu"
MARGIN_MM = 20
ADDRESS_X_MM, ADDRESS_Y_MM, ADDRESS_WIDTH_MM = 110, 52, 85  # inside the envelope window
FOLDS_MM = (99, 198)  # A4 (297 mm) folded in three for a DL envelope
LINE_MM = 5.5
ADDRESS_SIZES_PT = (11.0, 7.0)  # an address line too wide at 11 pt is shrunk, down to 7 pt at the smallest


class FontMissing(RuntimeError):
    pass


class AddressTooWide(ValueError):
    """An address line is wider than the envelope window even at the smallest size: no letter is made, for
    a line drawn past the window would be hidden (or past the page's edge) and the letter lost."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


def letter_pdf(*, organisation: Organisation, address: list[str], subject: str, body: str, language: str,
               reference: uuid.UUID, today: date | None = None) -> bytes:
    """The whole letter: letterhead, address in the window, date, subject, body, support contacts."""
    with translation.override(language):
        pdf = _Letter(footer_lines=_support_lines(organisation, language))
        pdf.set_title(subject)
        pdf.set_author(organisation.policy.name.get(language))
        pdf.set_creator("Guichet")
        pdf.set_lang(language)
        pdf.add_page()
        _letterhead(pdf, organisation, language)
        _address_block(pdf, address)
        _date_and_reference(pdf, today or timezone.localdate(), reference)
        _subject(pdf, subject)
        _body(pdf, body)
        return bytes(pdf.output())


class _Letter(FPDF):
    def __init__(self, footer_lines: list[str]):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_lines = footer_lines
        regular, bold = _font_files()
        self.add_font(FONT, "", regular)
        self.add_font(FONT, "B", bold)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=35)

    def header(self) -> None:
        # Fold marks on every page, in the margin where they never cover text.
        self.set_draw_color(150, 150, 150)
        for y in FOLDS_MM:
            self.line(3, y, 8, y)

    def footer(self) -> None:
        self.set_y(-28)
        self.set_font(FONT, "", 8.5)
        self.set_text_color(70, 70, 70)
        for line in self.footer_lines:
            self.cell(0, 4.2, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4.2, f"{self.page_no()}/{{nb}}", align="C")


def _font_files() -> tuple[Path, Path]:
    for folder in FONT_DIRECTORIES:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    raise FontMissing("Letters need the DejaVu Sans font (Debian package fonts-dejavu-core); looked in "
                      + ", ".join(str(f) for f in FONT_DIRECTORIES))


def _letterhead(pdf: FPDF, organisation: Organisation, language: str) -> None:
    colour = organisation.policy.theme.primary_colour
    pdf.set_text_color(int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    pdf.set_font(FONT, "B", 16)
    pdf.set_xy(MARGIN_MM, MARGIN_MM)
    pdf.multi_cell(120, 7, organisation.policy.name.get(language), align="L", new_x=XPos.LMARGIN)
    pdf.set_text_color(0, 0, 0)


def _address_block(pdf: FPDF, address: list[str]) -> None:
    largest, smallest = ADDRESS_SIZES_PT
    pdf.set_font(FONT, "", largest)
    pdf.set_xy(ADDRESS_X_MM, ADDRESS_Y_MM)
    for line in address:
        # A line too long for the window is shrunk, never wrapped: a wrapped line would be a new
        # address line for the post office's sorting machines. Never drawn past the window either.
        size = largest
        while pdf.get_string_width(line) > ADDRESS_WIDTH_MM and size > smallest:
            size -= 0.5
            pdf.set_font_size(size)
        if pdf.get_string_width(line) > ADDRESS_WIDTH_MM:
            raise AddressTooWide(line)
        pdf.set_x(ADDRESS_X_MM)
        pdf.cell(ADDRESS_WIDTH_MM, LINE_MM, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font_size(largest)


def _date_and_reference(pdf: FPDF, today: date, reference: uuid.UUID) -> None:
    pdf.set_font(FONT, "", 10.5)
    pdf.set_xy(ADDRESS_X_MM, 100)
    written = formats.date_format(today, "j F Y")
    pdf.cell(ADDRESS_WIDTH_MM, LINE_MM, _("On %(date)s") % {"date": written},
             new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font_size(8.5)
    pdf.cell(ADDRESS_WIDTH_MM, LINE_MM, _("Reference: %(reference)s") % {"reference": str(reference)[:8]})


def _subject(pdf: FPDF, subject: str) -> None:
    pdf.set_xy(MARGIN_MM, 118)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, _("Subject: %(subject)s") % {"subject": subject}, align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _body(pdf: FPDF, body: str) -> None:
    pdf.set_font(FONT, "", 11)
    for paragraph in body.strip().split("\n\n"):
        pdf.multi_cell(0, LINE_MM, paragraph.strip(), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)


def _support_lines(organisation: Organisation, language: str) -> list[str]:
    support = organisation.policy.support
    contacts = []
    if support.phone:
        hours = f" ({support.hours.get(language)})" if support.hours else ""
        contacts.append(_("Phone: %(phone)s") % {"phone": support.phone} + hours)
    if support.email:
        contacts.append(_("Email: %(email)s") % {"email": support.email})
    if support.url:
        contacts.append(support.url)
    if not contacts:
        return [organisation.policy.name.get(language)]
    return [_("Questions? Contact us."), " · ".join(contacts)]
