"""`guichet organisations check|apply`: every problem of every file, in the operator's language, and nothing
applied while one remains."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from guichet.organisations.models import Organisation
from guichet.policy.types import TEMPLATES

BUNDLED = Path(settings.BASE_DIR) / "policies" / "organisations"
PENSION = "caisse-retraite-exemple"


def folder_with(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(BUNDLED, folder)
    path = folder / f"{PENSION}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return folder


@pytest.mark.django_db
def test_problems_are_told_in_the_operators_language_and_nothing_is_applied(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "login:\n  lockout:\n    max_failures: 0\n    unknown_option: 1\n"
                                   "    duration: 30\n")
    with translation.override("fr"), pytest.raises(CommandError) as error:
        call_command("organisations", "apply", str(folder))
    text = str(error.value)
    assert "3 problèmes dans les fichiers de politique ; rien n'a été appliqué :" in text
    assert "login.lockout.max_failures : doit valoir au moins 1" in text
    assert "login.lockout.unknown_option : option inconnue" in text
    assert "login.lockout.duration : une durée s'écrit avec un nombre entier suivi de s, m, h ou d" in text
    assert "Extra inputs" not in text and "greater than" not in text
    assert not Organisation.objects.exists()
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("organisations", "check", str(folder))
    assert "3 problems in the policy files; nothing was applied:" in str(error.value)
    assert "login.lockout.max_failures: must be at least 1" in str(error.value)


def test_a_yaml_problem_is_placed_in_the_operators_language(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "login:\n  lockout: {max_failures: 3}\nlogin: {}\n")
    lines = (BUNDLED / f"{PENSION}.yaml").read_text(encoding="utf-8").count("\n")
    with translation.override("fr"), pytest.raises(CommandError) as error:
        call_command("organisations", "check", str(folder))
    assert (f": ligne {lines + 3}, colonne 1 : la clé 'login' apparaît deux fois "
            f"(la première à la ligne {lines + 1})") in str(error.value)


def test_a_valid_folder_is_told_in_the_operators_language() -> None:
    output = StringIO()
    with translation.override("fr"):
        call_command("organisations", "check", str(BUNDLED), stdout=output)
    assert output.getvalue().startswith("3 fichiers de politique valides : ")


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_message_of_the_policy_checks_has_a_french_translation(template: str) -> None:
    with translation.override("fr"):
        assert translation.gettext(template) != template


@pytest.mark.django_db
def test_what_apply_did_is_told_in_whole_sentences() -> None:
    for language, first, second in (("fr", "Organisations créées : ", "Organisations inchangées : "),
                                    ("en", "Organisations created: ", "Organisations unchanged: ")):
        Organisation.objects.all().delete()
        outputs = [StringIO(), StringIO()]
        with translation.override(language):
            for output in outputs:
                call_command("organisations", "apply", str(BUNDLED), stdout=output)
        assert outputs[0].getvalue().startswith(first + "caisse-agricole-exemple, "), outputs[0].getvalue()
        assert outputs[1].getvalue().startswith(second + "caisse-agricole-exemple, "), outputs[1].getvalue()
