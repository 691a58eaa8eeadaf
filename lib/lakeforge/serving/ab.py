"""A/B assignment: a user always lands in the same arm, without storing assignments anywhere."""

from __future__ import annotations

import hashlib


def variant_for(user_id: int, salt: str, challenger_share: float) -> str:
    """challenger for a `challenger_share` slice of users (a hash of salt and id), champion otherwise."""
    digest = hashlib.blake2b(f"{salt}:{user_id}".encode(), digest_size=8).digest()
    return "challenger" if int.from_bytes(digest, "big") / 2**64 < challenger_share else "champion"
