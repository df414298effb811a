"""guichet agents: it answers in French by default, as every Guichet command, and in English when asked; the
enrolment link and the tab-separated lines of `list` keep their shape and their words in both (scripts read them).
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from guichet.organisations.models import Organisation

MARIE = "Marie Martin <marie@caisse.example>"
LINK = re.compile(r"https?://\S+/agents/activation/\?jeton=\S+")


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("agents", *args, stdout=out)
    return out.getvalue().splitlines()


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("agents", *args, stdout=StringIO())
    return str(refused.value)


def said(*args: str) -> list[str]:
    """What the command writes, the enrolment link (the same in every language) left out."""
    lines = run(*args)
    return [line for line in lines if not LINK.fullmatch(line)]


def test_every_sentence_is_in_french_by_default(pension: Organisation, farm: Organisation) -> None:
    reach = ", ".join(sorted([pension.slug, farm.slug]))
    created = run("create", "--email", "Marie@Caisse.example", "--name", "Marie Martin", "--organisation",
                  pension.slug, farm.slug)
    assert created[:2] == [f"Agent créé : {MARIE} (agent ; {reach})",
                           "Lien d’activation à usage unique (valable 72 heures ; à remettre à l’agent seulement) :"]
    assert LINK.fullmatch(created[2]) and len(created) == 3
    assert said("enrolment", "--email", "marie@caisse.example") == [
        "Lien d’activation à usage unique (valable 72 heures ; à remettre à l’agent seulement) :"]
    assert run("organisations", "--email", "marie@caisse.example", "--organisation", farm.slug) == [
        f"{MARIE} aide désormais les adhérents de : {farm.slug}"]
    assert run("unlock", "--email", "marie@caisse.example") == [f"Connexion à la console débloquée pour {MARIE}"]
    assert run("disable", "--email", "marie@caisse.example") == [f"Agent désactivé : {MARIE}"]
    assert run("enable", "--email", "marie@caisse.example") == [f"Agent réactivé : {MARIE}"]
    assert said("create", "--email", "chef@caisse.example", "--name", "Chef", "--role", "supervisor",
                "--all-organisations")[0] == "Agent créé : Chef <chef@caisse.example> (supervisor ; toutes les " \
                                             "organisations)"


def test_every_refusal_is_in_french_by_default(pension: Organisation) -> None:
    run("create", "--email", "marie@caisse.example", "--name", "Marie Martin", "--organisation", pension.slug)
    assert refusal("disable") == "--email est obligatoire"
    assert refusal("create", "--email", "paul@caisse.example", "--name", " ") == "--name est obligatoire"
    assert refusal("unlock", "--email", "Paul@Caisse.example") == (
        "aucun agent avec l’adresse e-mail paul@caisse.example")
    assert refusal("create", "--email", "MARIE@caisse.example", "--name", "M", "--organisation", pension.slug) == (
        "un agent avec l’adresse e-mail marie@caisse.example existe déjà ; rien n’a été créé")
    assert refusal("organisations", "--email", "marie@caisse.example", "--organisation", "nowhere", "elsewhere") == (
        "organisations inconnues : elsewhere, nowhere ; rien n’a été modifié")
    assert refusal("organisations", "--email", "marie@caisse.example", "--organisation", "nowhere") == (
        "organisation inconnue : nowhere ; rien n’a été modifié")
    assert refusal("organisations", "--email", "marie@caisse.example", "--all-organisations") == (
        "seul un superviseur peut accéder à toutes les organisations (--all-organisations) ; rien n’a été modifié")
    assert refusal("organisations", "--email", "marie@caisse.example") == (
        "indiquez au moins une --organisation (ou, pour un superviseur, --all-organisations) ; rien n’a été modifié")


def test_in_english_when_asked(pension: Organisation) -> None:
    with translation.override("en"):
        created = run("create", "--email", "marie@caisse.example", "--name", "Marie Martin", "--role", "supervisor",
                      "--organisation", pension.slug)
        assert created[:2] == [f"Agent created: {MARIE} (supervisor; {pension.slug})",
                               "One-time enrolment link (valid 72 hours; give it to the agent only):"]
        assert run("organisations", "--email", "marie@caisse.example", "--all-organisations") == [
            f"{MARIE} now helps the members of: all organisations"]
        assert run("disable", "--email", "marie@caisse.example") == [f"Agent disabled: {MARIE}"]
        assert refusal("organisations", "--email", "marie@caisse.example", "--all-organisations",
                       "--organisation", pension.slug) == (
            "give either --organisation or --all-organisations, not both; nothing was changed")


def test_the_list_keeps_its_tokens_in_every_language(pension: Organisation) -> None:
    """Tab-separated for scripts: the state words are stable tokens, never translated."""
    run("create", "--email", "marie@caisse.example", "--name", "Marie Martin", "--organisation", pension.slug)
    run("create", "--email", "chef@caisse.example", "--name", "Chef", "--role", "supervisor", "--all-organisations")
    run("disable", "--email", "marie@caisse.example")
    pension.delete()   # Marie is left with no organisation
    expected = {"chef@caisse.example\tChef\tsupervisor\tactive\tenrolment pending\tall organisations",
                "marie@caisse.example\tMarie Martin\tagent\tdisabled\tenrolment pending\tno organisation"}
    assert set(run("list")) == expected
    with translation.override("en"):
        assert set(run("list")) == expected
