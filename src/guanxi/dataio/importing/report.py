"""What an import will do (preview) or did: per row, the action and why; per rejected cell, the
row, column and reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The stored report keeps every error but only the first rows' outcomes (a 100k-row preview would
# otherwise be a 20 MB JSON column); counts cover every row.
MAX_OUTCOMES = 2000
MAX_ERRORS = 5000


@dataclass
class Outcome:
    row: int
    action: str  # create | update | merge | skip | reject
    name: str = ""
    customer_id: int | None = None
    merged_into_row: int | None = None
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


class Report:
    def __init__(self) -> None:
        self.rows: dict[int, Outcome] = {}
        self.errors: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.counts: dict[str, int] = {}
        self.file: dict[str, Any] = {}

    def outcome(self, outcome: Outcome) -> None:
        self.rows[outcome.row] = outcome

    def reject(self, row: int, errors: list[dict[str, Any]]) -> None:
        self.rows[row] = Outcome(row=row, action="reject", errors=errors)
        self.errors.extend(errors)

    def matched(self, row: int, customer_id: int, reason: str) -> None:
        outcome = self.rows.get(row)
        if outcome is not None:
            outcome.action = "update"
            outcome.customer_id = customer_id
            outcome.reason = reason

    def set_action(
        self,
        rows: list[int],
        action: str,
        *,
        customer_id: int | None = None,
        reason: str = "",
        keep_merge: bool = False,
    ) -> None:
        for row in rows:
            outcome = self.rows.get(row)
            if outcome is None:
                continue
            if not (keep_merge and outcome.action == "merge"):
                outcome.action = action
            if customer_id is not None:
                outcome.customer_id = customer_id
            if reason:
                outcome.reason = reason

    @property
    def rejected(self) -> int:
        return sum(1 for o in self.rows.values() if o.action == "reject")

    def tally(self) -> dict[str, int]:
        counts: dict[str, int] = {"create": 0, "update": 0, "merge": 0, "skip": 0, "reject": 0}
        for outcome in self.rows.values():
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        ordered = [self.rows[r] for r in sorted(self.rows)]
        flagged = [o for o in ordered if o.flags or o.action == "reject"]
        shown = ordered[:MAX_OUTCOMES]
        seen = {o.row for o in shown}
        shown += [o for o in flagged if o.row not in seen][:MAX_OUTCOMES]
        return {
            "file": self.file,
            "rows": len(self.rows),
            "actions": self.tally(),
            "counts": self.counts,
            "errors": self.errors[:MAX_ERRORS],
            "error_count": len(self.errors),
            "notes": self.notes,
            "outcomes": [asdict(o) for o in sorted(shown, key=lambda o: o.row)],
            "outcomes_truncated": len(ordered) > len(shown),
        }
