"""The ID-token signing key: from the environment, made once outside production, refused when unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from guichet.oidc import signing_key


def test_outside_production_a_key_is_made_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signing_key.VARIABLE, raising=False)
    first = signing_key.load(production=False, data_dir=tmp_path)
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert signing_key.load(production=False, data_dir=tmp_path) == first
    assert (tmp_path / signing_key.FILE_NAME).stat().st_mode & 0o077 == 0   # readable by its owner only


def test_production_refuses_to_start_without_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signing_key.VARIABLE, raising=False)
    with pytest.raises(signing_key.KeyProblem, match=signing_key.VARIABLE):
        signing_key.load(production=True, data_dir=tmp_path)
    assert not (tmp_path / signing_key.FILE_NAME).exists()


def test_the_environment_key_wins_and_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = signing_key.load(production=False, data_dir=tmp_path / "other")
    monkeypatch.setenv(signing_key.VARIABLE, made.replace("\n", "\\n"))   # one-line form
    assert signing_key.load(production=True, data_dir=tmp_path) == made
    monkeypatch.setenv(signing_key.VARIABLE, "not a key")
    with pytest.raises(signing_key.KeyProblem, match="PEM"):
        signing_key.load(production=True, data_dir=tmp_path)
