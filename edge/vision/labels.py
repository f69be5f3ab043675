"""Label maps: one label per line; class index k is line k + offset; 'n/a' marks unused ids."""

from __future__ import annotations

from pathlib import Path

from edge.errors import ModelError

UNUSED = {"n/a", ""}
TF_PLACEHOLDER = "???"  # first line of TF's labelmap.txt (background class)


def parse_labels(text: str, offset: int | None = None) -> dict[int, str]:
    """Map class index -> label. `offset=None` = 1 when the first line is '???', else 0.

    >>> parse_labels("???\\nperson\\nbicycle\\n")
    {0: 'person', 1: 'bicycle'}
    """
    lines = [line.strip() for line in text.splitlines()]
    if offset is None:
        offset = 1 if lines and lines[0] == TF_PLACEHOLDER else 0
    labels: dict[int, str] = {}
    for line_number, label in enumerate(lines):
        class_index = line_number - offset
        if class_index < 0 or label in UNUSED or label == TF_PLACEHOLDER:
            continue
        labels[class_index] = label
    return labels


def load_labels(path: Path, offset: int | None = None) -> dict[int, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(
            f"label file {path}: cannot read ({exc.strerror or exc}); set [detector] labels or run scripts/get-model"
        ) from None
    except UnicodeDecodeError:
        raise ModelError(f"label file {path}: not UTF-8 text; expected one label per line") from None
    labels = parse_labels(text, offset)
    if not labels:
        raise ModelError(f"label file {path}: no labels found; expected one label per line")
    return labels
