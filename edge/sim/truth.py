"""Ground truth: one JSON object per action (the contract the weighing benchmark reads).

    {"id": int, "kind": "pick"|"put"|"restock"|"bump"|"lean"|"fault"|"reboot"|"camera",
     "t_start": float, "t_settled": float, "plates": {"<plate>": <true delta g>, ...},
     "sku": str|null, "count": int, "expect_event": bool, "detail": str,
     "misplaced": bool, "tags": [str, ...]}

Times are unix seconds on the capture's clock. Deltas are negative when weight left the plate.
`misplaced` and `tags` (edge.sim.tags) came later: files without them still read (false, []).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal

from edge.errors import CaptureError

TruthKind = Literal["pick", "put", "restock", "bump", "lean", "fault", "reboot", "camera"]
KINDS: frozenset[str] = frozenset({"pick", "put", "restock", "bump", "lean", "fault", "reboot", "camera"})


@dataclass(frozen=True, slots=True)
class TruthRecord:
    id: int
    kind: TruthKind
    t_start: float
    t_settled: float
    plates: dict[str, float]
    sku: str | None
    count: int
    expect_event: bool
    detail: str
    misplaced: bool = False  # a put of a SKU the planogram does not put on these plates
    tags: tuple[str, ...] = ()  # benchmark classes, edge.sim.tags.TAGS

    def with_tags(self, tags: tuple[str, ...]) -> TruthRecord:
        return replace(self, tags=tags)

    def shifted(self, start_time: float, speed: float = 1.0) -> TruthRecord:
        """The same record with times moved from scenario seconds to unix seconds (a live run at
        `speed` x real time compresses them), rounded as written (microseconds, milligrams), so a
        record read back from the file compares equal."""
        return TruthRecord(
            self.id,
            self.kind,
            round(start_time + self.t_start / speed, 6),
            round(start_time + self.t_settled / speed, 6),
            {name: round(grams, 3) for name, grams in self.plates.items()},
            self.sku,
            self.count,
            self.expect_event,
            self.detail,
            self.misplaced,
            self.tags,
        )

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "t_start": round(self.t_start, 6),
            "t_settled": round(self.t_settled, 6),
            "plates": {name: round(grams, 3) for name, grams in self.plates.items()},
            "sku": self.sku,
            "count": self.count,
            "expect_event": self.expect_event,
            "detail": self.detail,
            "misplaced": self.misplaced,
            "tags": list(self.tags),
        }
        return json.dumps(body, separators=(", ", ": "))


def write_truth(file: IO[str], record: TruthRecord) -> None:
    file.write(record.to_json() + "\n")


def read_truth(path: str | Path) -> Iterator[TruthRecord]:
    """Yield the records of a truth file; a malformed line raises CaptureError naming it."""
    for _, record in read_truth_lines(path):
        yield record


def read_truth_lines(path: str | Path) -> Iterator[tuple[int, TruthRecord]]:
    """(line number, record) for each record of a truth file; a malformed line, or bytes that are not
    UTF-8 text, raise CaptureError naming the line."""
    with Path(path).open("rb") as file:
        for number, data in enumerate(file, start=1):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError:
                raise CaptureError(f"{path}:{number}: not UTF-8 text, so not a truth file; give the JSON-lines "
                                   "truth file shelf-node sim wrote (--truth)") from None
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if raw["kind"] not in KINDS:
                    raise ValueError(f"unknown kind {raw['kind']!r}")
                yield number, TruthRecord(
                    id=int(raw["id"]),
                    kind=raw["kind"],
                    t_start=float(raw["t_start"]),
                    t_settled=float(raw["t_settled"]),
                    plates={str(k): float(v) for k, v in raw["plates"].items()},
                    sku=raw["sku"],
                    count=int(raw["count"]),
                    expect_event=bool(raw["expect_event"]),
                    detail=str(raw["detail"]),
                    misplaced=bool(raw.get("misplaced", False)),
                    tags=tuple(str(tag) for tag in raw.get("tags", ())),
                )
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise CaptureError(
                    f"{path}:{number}: not a truth record ({exc}); regenerate it with shelf-node sim"
                ) from None
