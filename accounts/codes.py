"""The one-time code itself: how it is made and how it is hashed. Nothing else.

Codes are 6 digits from `secrets` (a CSPRNG). Only an HMAC-SHA256 of the code, keyed
with SECRET_KEY and salted with the id of the event that asked for it, is stored: a
leaked table alone does not let anyone try the million codes offline.
"""

import re
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

CODE_DIGITS = 6
_CODE_RE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")
_KEY_SALT = "accounts.verification-code.v1"


def code_generate() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_normalize(raw: str) -> str:
    """What a person typed, without spaces or dashes ("123 456" → "123456")."""
    return re.sub(r"[\s-]+", "", raw or "")


def code_is_well_formed(code: str) -> bool:
    return bool(_CODE_RE.fullmatch(code or ""))


def code_hash(*, salt: str, code: str) -> str:
    return salted_hmac(_KEY_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()


def code_matches(*, salt: str, code: str, stored_hash: str) -> bool:
    """Constant-time comparison of a typed code against the stored hash."""
    return constant_time_compare(code_hash(salt=salt, code=code), stored_hash)
