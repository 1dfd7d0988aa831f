"""The one workflow table type: every allowed (state, action) -> next state, as data.

An app declares its transitions once (`Transition` rows in a `WorkflowTable`); services look a
transition up before changing anything and pages ask `allowed_actions` which buttons to show.
`variants` says which kinds of subject a transition applies to (the licensing paths, the office's
case types): the same (state, action) may lead to different states for different variants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]
    variants: frozenset[str]
    reason_required: bool = False

    @property
    def is_self_loop(self) -> bool:
        """An action inside a state (it does not change the state)."""
        return self.source == self.target


class WorkflowTable:
    def __init__(self, transitions: Iterable[Transition]) -> None:
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self._index: dict[tuple[str, str, str], Transition] = {}
        for t in self.transitions:
            for variant in t.variants:
                key = (str(t.source), str(t.action), str(variant))
                if key in self._index:
                    raise ValueError(f"two transitions for {key}")
                self._index[key] = t

    def find(self, *, state: str, action: str, variant: str) -> Transition | None:
        """The transition `action` takes from `state` for this variant, or None if not allowed."""
        return self._index.get((str(state), str(action), str(variant)))

    def allowed_actions(self, *, state: str, role: str, variant: str) -> list[str]:
        """Actions `role` may take in `state`, in table order, without repeats (for buttons)."""
        seen: list[str] = []
        for t in self.transitions:
            if t.source == state and role in t.roles and variant in t.variants and t.action not in seen:
                seen.append(t.action)
        return seen
