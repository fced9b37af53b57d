"""Staff accounts: the first admin (CONTRACT §1) and the demo dispatcher."""

from __future__ import annotations

from adapters import accounts
from hub.auth import hash_password


def ensure_staff(mysql_url: str, username: str, password: str, role: str) -> bool:
    """Create the account if it does not exist; True when it was created."""
    if accounts.username_taken(mysql_url, username):
        return False  # before hashing: bcrypt is slow on purpose, and this runs on every start
    accounts.add_staff(mysql_url, username, hash_password(password), role)
    return True
