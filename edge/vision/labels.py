"""Label maps: one label per line; class index k is line k + offset; 'n/a' marks unused ids."""

from __future__ import annotations

from pathlib import Path

from edge.errors import ModelError

UNUSED = {"n/a", ""}
TF_PLACEHOLDER = "???"  # first line of TF's labelmap.txt (background class)


def parse_labels(text: str, offset: int | None = None) -> dict[int, str | None]:
    """Map class index -> label, None for unused ids ('n/a'). `offset=None` = 1 when the first line is '???'.

    >>> parse_labels("???\\nperson\\nn/a\\nbicycle\\n")
    {0: 'person', 1: None, 2: 'bicycle'}
    """
    lines = [line.strip() for line in text.splitlines()]
    if offset is None:
        offset = 1 if lines and lines[0] == TF_PLACEHOLDER else 0
    labels: dict[int, str | None] = {}
    for line_number, label in enumerate(lines):
        class_index = line_number - offset
        if class_index >= 0:
            labels[class_index] = None if label in UNUSED or label == TF_PLACEHOLDER else label
    return labels


def load_labels(path: Path, offset: int | None = None) -> dict[int, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(
            f"label file {path}: cannot read ({exc.strerror or exc}); set [detector] labels or run scripts/get-model"
        ) from None
    except UnicodeDecodeError:
        raise ModelError(f"label file {path}: not UTF-8 text; expected one label per line") from None
    labels = parse_labels(text, offset)
    if not any(labels.values()):
        raise ModelError(f"label file {path}: no labels found; expected one label per line")
    return labels
