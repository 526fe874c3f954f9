"""Case references: a prefix, a sequence number and a random check part, IC-239081-R6T5.

The number comes from a PostgreSQL sequence, which never hands out a value twice,
even to a transaction that rolls back, so a reference is never reused. The check part
comes from `secrets`, so knowing one reference does not let anyone guess the next.
"""

import re
import secrets

from django.conf import settings
from django.db import connection

SEQUENCE = "triage_case_reference_seq"
# No 0/O or 1/I: references are read out over the phone and typed from letters.
CHECK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CHECK_LENGTH = 4
SHAPE = re.compile(r"^[A-Z]{1,8}-\d{6,}-[A-Z2-9]{4}$")


def case_reference_next() -> tuple[int, str]:
    """A fresh (sequence number, reference) pair."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [SEQUENCE])
        number = cursor.fetchone()[0]
    check = "".join(secrets.choice(CHECK_ALPHABET) for _ in range(CHECK_LENGTH))
    return number, f"{settings.EARSHOT_CASE_REFERENCE_PREFIX}-{number:06d}-{check}"


def looks_like_reference(text: str) -> bool:
    return bool(SHAPE.match(text))
