"""A fast password hasher for tests: PBKDF2 with one iteration.

The hash keeps Django's `pbkdf2_sha256$<iterations>$…` form, so the real
servers and workers that tests start verify it with the standard hasher.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
