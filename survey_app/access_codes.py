"""Codes residents type: invitation codes and resume codes.

Twelve characters of Crockford's base-32 alphabet (60 random bits from ``secrets``), shown in
groups of four (``7KQ2-M9XD-4HRT``). Typing is forgiving: case, spaces and hyphens are
ignored and the letters people confuse with digits (O, I, L) are read as 0 and 1, as the
alphabet's designer intended; U is not in the alphabet at all.

An invitation code is stored as its SHA-256 hash (staff hold the codes themselves, in the
mail-merge file). A resume code, which only the resident holds, is stored as an HMAC under the
site's draft key (``draft_token``), derived from SECRET_KEY: 60 bits are too few against a plain
hash when someone with a copy of the database tries each guess against every stored draft at
once (on GPUs, the first of a thousand drafts in hours), while without the site's key a copy of
the database offers nothing to test a guess against. The same code, with the same key as salt,
derives the AES key that seals the draft's answers (``answers_key``, HKDF-SHA256, a derivation
apart from the lookup). The server holds that key only while a request that carries the code
runs. Changing SECRET_KEY leaves the drafts in progress unreadable (their residents start again).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
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
_SITE_KEY_INFO = b"survey_app draft codes v1"


@functools.lru_cache(maxsize=4)
def _site_draft_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SITE_KEY_INFO).derive(
        secret_key.encode())


def site_draft_key() -> bytes:
    """The site's draft key, derived from SECRET_KEY (never stored)."""
    from flask import current_app

    return _site_draft_key(current_app.config["SECRET_KEY"])


def draft_token(code: str) -> str:
    """What finds the draft a (normalised) resume code opens: HMAC-SHA256 under the site's key."""
    return hmac.new(site_draft_key(), code.encode("ascii"), hashlib.sha256).hexdigest()


def answers_key(code: str) -> bytes:
    """The 256-bit key that seals the answers saved with a (normalised) resume code."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=site_draft_key(), info=_ANSWERS_KEY_INFO).derive(
        code.encode("ascii"))
