"""What every app's `demo.py` returns: the logins that `make run` prints.

Each app may have a module `yunzheng.<app>.demo` with `load_demo() -> list[DemoLogin]`. Loaders
must be idempotent (get-or-create by natural key): `make run` calls them on every start.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoLogin:
    role: str
    how: str
    where: str
