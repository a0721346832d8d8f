"""Codes residents type: invitation codes and resume codes.

Twelve characters of Crockford's base-32 alphabet (60 random bits from ``secrets``), shown in
groups of four (``7KQ2-M9XD-4HRT``). Typing is forgiving: case, spaces and hyphens are
ignored and the letters people confuse with digits (O, I, L) are read as 0 and 1, as the
alphabet's designer intended; U is not in the alphabet at all. Only a SHA-256 hash of a code
is stored. With 60 bits a stolen hash cannot be reversed by guessing, so no secret pepper is
needed (a pepper would tie every code to the server's key and break them on key rotation).

A resume code also locks the answers saved with it (``drafts``): ``answers_key`` derives an
AES key from the code with HKDF-SHA256, a derivation apart from the lookup hash (knowing the
hash, as the database does, gives no key). The server holds the key only while a request
that carries the code runs.
"""
from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 12
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str | None) -> str | None:
    """The canonical code for what a resident typed, or None if it cannot be a code."""
    if not text:
        return None
    code = "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-–_.").translate(_READ_AS)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def display(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


_ANSWERS_KEY_INFO = b"survey_app draft answers v1"


def answers_key(code: str) -> bytes:
    """The 256-bit key that seals the answers saved with a (normalised) resume code."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_ANSWERS_KEY_INFO).derive(
        code.encode("ascii"))
