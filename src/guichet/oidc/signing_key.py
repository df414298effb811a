"""The RSA key that signs the ID tokens of every organisation (RS256).

Read from the environment variable OIDC_RSA_PRIVATE_KEY (PEM). Outside production, when the variable
is empty, a key is made once and kept under DATA_DIR, so that tokens stay verifiable across restarts
of the demo. Production never makes one: a key that changes with each node would break every client.

Imported by the settings: no Django import here.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

VARIABLE = "OIDC_RSA_PRIVATE_KEY"
FILE_NAME = "oidc-signing-key.pem"


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages: Django's own cannot be imported while the settings load."""
    return message


class KeyProblem(Exception):
    """The key is missing (in production) or is not an RSA private key in PEM.

    `message` is an English template that `values` fill: the settings tell it in the operator's language. Its
    translation is in guichet.project's catalogue, with the other start-up errors (kept by hand: makemessages
    run in that app does not see this file; guichet/project/test_environment.py checks each one is there)."""

    def __init__(self, message: str, **values: object):
        self.message, self.values = message, values
        super().__init__(message % values)


def load(*, production: bool, data_dir: Path) -> str:
    """The PEM text of the signing key; KeyProblem when it cannot be had."""
    # Some process managers cannot hold a multi-line value: "\n" written literally is accepted too.
    pem = os.environ.get(VARIABLE, "").strip().replace("\\n", "\n")
    if pem:
        return _checked(pem, None)
    if production:
        raise KeyProblem(gettext_noop("%(variable)s must hold the RSA private key (PEM) that signs the ID tokens "
                                      "(for example: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)."),
                         variable=VARIABLE)
    path = data_dir / FILE_NAME
    if not path.exists():
        _write_new_key(path)
    return _checked(path.read_text(), path)


def _checked(pem: str, path: Path | None) -> str:
    """The PEM text if it holds a good key; `path` is the file it was read from (None: the variable)."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        if path is None:
            raise KeyProblem(gettext_noop("%(variable)s is not an unencrypted private key in PEM: %(error)s"),
                             variable=VARIABLE, error=error) from None
        raise KeyProblem(gettext_noop("The key file %(path)s is not an unencrypted private key in PEM: %(error)s"),
                         path=path, error=error) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        if path is None:
            raise KeyProblem(gettext_noop("%(variable)s must be an RSA key of at least 2048 bits."), variable=VARIABLE)
        raise KeyProblem(gettext_noop("The key file %(path)s must be an RSA key of at least 2048 bits."), path=path)
    return pem


def _write_new_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name then linked into place, which fails if another process got there
    # first: two processes starting at once never read half a key nor keep two different keys.
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
