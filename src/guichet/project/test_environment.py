"""The start-up configuration errors speak the operator's language: French unless GUICHET_LANGUAGE=en.

These call environment.py's checks directly, as the settings do at start-up (test_serve.py runs the real
`guichet check` in a subprocess); the environment variables are the test's, set with monkeypatch.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from guichet.oidc import signing_key
from guichet.project import environment as env

# Every value is wrong: between them, these make every message of environment.py that depends on a value.
BAD_VALUES = {
    "GUICHET_LANGUAGE": "de", "SECRET_KEY": "short", "BASE_URL": "http://guichet.example",
    "SESSION_IDLE_MINUTES": "fifteen", "SESSION_MAX_HOURS": "0", "OUTBOX_LEASE_SECONDS": "10",
    "PASSWORD_ARGON2_MEMORY_KIB": "7168", "PASSWORD_ARGON2_PARALLELISM": "1000", "PASSWORD_ARGON2_TIME_COST": "2",
    "EMAIL_URL": "smtp://smtp.example:twenty-five", "SMS_URL": "http://token@sms.example/send",
    "POSTAL_URL": "file:relative/spool", "REDIS_URL": "redis://:6379/0", "EMAIL_FROM": "two@a.example, b@b.example",
    "LOG_FORMAT": "jsn",
}


def every_message(monkeypatch: pytest.MonkeyPatch, language: str | None) -> list[str]:
    """What environment.py says about BAD_VALUES (and about a bad GUICHET_ENV, a bad number, an invalid URL and
    the demo mailbox), in `language` (None: GUICHET_LANGUAGE unset)."""
    for name, value in BAD_VALUES.items():
        monkeypatch.setenv(name, value)
    if language is None:
        monkeypatch.delenv("GUICHET_LANGUAGE")
    else:
        monkeypatch.setenv("GUICHET_LANGUAGE", language)
    told = env.problems(production=True, database_url="postgress://u:secret@db.example/g")
    told += env.production_problems(secret_key="short", base_url="http://guichet.example", email_url="mailbox:",
                                    sms_url="mailbox:", postal_url="mailbox:", database_url="sqlite:///g.sqlite3")
    told += env.url_problems("REDIS_URL", "redis://[::1", production=True)
    monkeypatch.setenv("GUICHET_ENV", "prod")
    for refused in (env.environment, lambda: env.get_int("SESSION_IDLE_MINUTES")):
        with pytest.raises(env.ConfigurationError) as error:
            refused()
        told += error.value.problems
    told.append(str(env.ConfigurationError([])))
    return told


def messages_in_the_code(module: object = env, marker: str = "_") -> set[str]:
    """Every message the module passes to `marker` (what makemessages extracts)."""
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == marker
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def test_every_message_has_its_french_translation() -> None:
    """environment.py's, and the signing key's, which the settings list with them."""
    messages = messages_in_the_code()
    assert len(messages) >= 20
    key_messages = messages_in_the_code(signing_key, "gettext_noop")
    assert len(key_messages) == 5
    messages |= key_messages
    french = env._catalogue("fr")
    untranslated = sorted(m for m in messages if french.gettext(m) == m)
    assert not untranslated, f"no French in src/guichet/project/locale/fr/LC_MESSAGES/django.mo for: {untranslated}"


def test_every_problem_is_told_in_french_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    english = every_message(monkeypatch, "en")
    french = every_message(monkeypatch, None)
    assert len(french) == len(english) >= 20
    # Every message of the code was made above (but the one about GUICHET_LANGUAGE itself, see below), so none
    # can stay English without this test seeing it.
    for message in messages_in_the_code() - {"GUICHET_LANGUAGE must be fr or en, not %(value)s."}:
        filled = re.compile(".*".join(re.escape(part) for part in re.split(r"%\(\w+\)s", message)), re.DOTALL)
        assert any(filled.fullmatch(sentence.strip()) for sentence in english), f"never made: {message}"
    still_english = [f for f, e in zip(french, english, strict=True) if f == e]
    assert not still_english, still_english
    for sentence in french:
        assert " must " not in sentence and " is not " not in sentence and " now " not in sentence, sentence
    assert french[-1] == "Guichet refuse de démarrer avec ces réglages :\n"
    assert ("SESSION_IDLE_MINUTES doit être un nombre entier (valeur actuelle : 'fifteen')." in french)
    assert ("OUTBOX_LEASE_SECONDS doit valoir au moins 30 en production (valeur actuelle : 10)." in french)
    # Variable names, schemes and example values are never translated; secrets are never quoted.
    assert ("POSTAL_URL doit être file:// suivi d'un chemin absolu, comme file:///var/spool/guichet/letters "
            "(valeur actuelle : 'file:relative/spool').") in french
    assert not any("u:secret" in sentence or "token@" in sentence for sentence in french)


def test_english_when_the_operator_asks_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    english = every_message(monkeypatch, "EN")
    assert "SESSION_IDLE_MINUTES must be a whole number, not 'fifteen'." in english
    assert english[-1] == "Guichet refuses to start with these settings:\n"
    assert not any("doit" in sentence or "valeur actuelle" in sentence for sentence in english)
    # A language Guichet does not speak is itself a problem, told in French.
    monkeypatch.setenv("GUICHET_LANGUAGE", "de")
    assert env.operator_language() == "fr"
    assert "GUICHET_LANGUAGE doit valoir fr ou en (valeur actuelle : 'de')." in env.problems(
        production=False, database_url="sqlite:///g.sqlite3")


def test_the_signing_key_problems_are_told_in_the_operators_language(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def told(**variables: str) -> str:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(signing_key.KeyProblem) as problem:
            signing_key.load(production=True, data_dir=tmp_path)
        return env.translated(problem.value.message, problem.value.values)

    monkeypatch.delenv("GUICHET_LANGUAGE", raising=False)
    assert told(OIDC_RSA_PRIVATE_KEY="").startswith(
        "OIDC_RSA_PRIVATE_KEY doit contenir la clé privée RSA (PEM) qui signe les jetons d'identité")
    assert told(OIDC_RSA_PRIVATE_KEY="not a key").startswith(
        "OIDC_RSA_PRIVATE_KEY n'est pas une clé privée PEM non chiffrée : ")
    assert told(GUICHET_LANGUAGE="en").startswith("OIDC_RSA_PRIVATE_KEY is not an unencrypted private key in PEM: ")
