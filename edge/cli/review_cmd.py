"""`shelf-node review show EVENT_ID` and `review list`: flagged item events from the node's state, and the
review card (one PNG) a reviewer settles them with; `review stats`: the reviewers' answers per confidence
bin. Works on a running or a stopped node (files only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.errors import ConfigError, ShelfNodeError


@click.group()
def review() -> None:
    """Item events flagged for review: what the node kept, and the card to judge one at a glance."""


@review.command("list")
@config_option
@click.option("-n", "count", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
def list_cmd(config_path: Path, count: int, as_json: bool) -> None:
    """The newest flagged item events the node kept (state_dir/review), newest first."""
    from edge.node.review import ReviewLog

    config = load_or_fail(config_path)
    records = ReviewLog(config.node.state_dir / "review").recent(count)
    emit(records, as_json, _render_list)


@review.command("show")
@click.argument("event_id")
@config_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the review card [default: review-<event id's first 8>.png here].")
@json_option
def show(event_id: str, config_path: Path, out: Path | None, as_json: bool) -> None:
    """Print item event EVENT_ID (an event_id, or its first 8+ characters), its hypotheses and review
    reasons, and write its review card: the weight change, the planogram slice, the hypotheses, the frames."""
    from edge.hw.canvas import decode_picture
    from edge.vision.review_card import pictures_of, render_card

    config = load_or_fail(config_path)
    record = _find(config, event_id)
    pictures = run_guarded(lambda: pictures_of(record, lambda sid: _snapshot(config, sid), decode_picture))
    card = render_card(record, pictures)
    out = out or Path(f"review-{(record.get('event_id') or event_id)[:8]}.png")
    try:
        out.write_bytes(card.png())
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}; pass --out to a writable place")
    kept = sorted(kind for kind, image in pictures.items() if image is not None)
    emit({**record, "card": str(out), "pictures": kept}, as_json, _render_show)


@review.command("stats")
@config_option
@json_option
def stats_cmd(config_path: Path, as_json: bool) -> None:
    """Reviewers' answers so far (state_dir/review_outcomes.json): per confidence bin, how often fusion
    agreed with them, and the bins whose published confidence the node lowers (docs/fusion.md)."""
    from edge.node.answers import STATE_FILE, file_status

    config = load_or_fail(config_path)
    path = config.node.state_dir / STATE_FILE
    try:
        status = file_status(path)
    except (OSError, ValueError) as exc:
        fail(f"{path}: {exc}; a running node moves a file like this aside at its next start and begins a "
             f"fresh record")
    emit(status.to_json(), as_json, render_reliability)


def render_reliability(status: dict[str, Any]) -> str:
    """The reliability table (`review stats`; the node's stats.parts.reliability has the same shape)."""
    rows = [[row["bin"], row["answers"], row["agreed"], row["flagged"], row["decided"], row["decided_agreed"],
             _probability(row["mean_confidence"]), _probability(row["accuracy_upper95"]),
             "-" if row["cap"] is None else f"{row['cap']:.3f}"] for row in status.get("bins") or []]
    lowered = ", ".join(status.get("lowered_bins") or []) or "none"
    return "\n".join([
        f"{status.get('outcomes', 0)} reviewed outcomes ({status.get('path')}); published confidence lowered in: "
        f"{lowered}",
        table(["confidence", "answers", "agreed", "flagged", "decided", "decided agreed", "mean conf",
               "upper95 acc", "lowered to"], rows),
        "decided: answers to events no hard reason flagged (their confidence decided their review); only they "
        "can lower a bin, with >= 30 of them and the one-sided 95 % upper bound on their accuracy below their "
        "mean confidence"])


def _find(config: NodeConfig, event_id: str) -> dict[str, Any]:
    """The kept record (flagged events), else the event still in the outbox (any item event not yet delivered)."""
    from edge.node.review import ReviewLog, planogram_slice

    directory = config.node.state_dir / "review"
    try:
        record = ReviewLog(directory).find(event_id)
    except ValueError as exc:
        fail(str(exc))
    if record is not None:
        return record
    row = _from_outbox(config, event_id)
    if row is None:
        fail(f"no item event {event_id!r} kept in {directory} or waiting in the outbox; only events flagged for "
             f"review are kept (the newest 200): 'shelf-node review list' shows them")
    return {"format": 1, "event_id": row.event_id, "seq": row.seq, "kind": "item", "body": row.body,
            "planogram": planogram_slice(_planogram(config), row.body)}


def _from_outbox(config: NodeConfig, event_id: str) -> Any:
    from edge.outbox import Outbox, outbox_path

    path = outbox_path(config)
    if not path.is_file() or len(event_id) < 8:
        return None
    box = run_guarded(lambda: Outbox(path, config.outbox))
    try:
        return next((r for r in box.iter_rows() if r.kind == "item" and r.event_id.startswith(event_id)), None)
    except ShelfNodeError:
        return None
    finally:
        box.close()


def _planogram(config: NodeConfig) -> Any:
    from edge.planogram import PlanogramStore, load_planogram_file

    try:
        stored = PlanogramStore(config.node.state_dir, config.plate_names()).load()
        if stored is None and config.fusion.planogram is not None:
            stored = load_planogram_file(config.fusion.planogram, config.plate_names())
        return stored
    except ConfigError:
        return None


def _snapshot(config: NodeConfig, snapshot_id: str) -> bytes | None:
    """A stored picture, read directly (the store itself would prune to its bounds)."""
    from edge.vision.snapshots import SNAPSHOT_ID

    if not SNAPSHOT_ID.match(snapshot_id):
        return None
    try:
        return (config.node.state_dir / "snapshots" / f"{snapshot_id}.jpg").read_bytes()
    except OSError:
        return None


def _render_show(record: dict[str, Any]) -> str:
    from edge.fusion.encode import describe_item_body
    from edge.vision.review_card import option_text, options

    body = record.get("body") or {}
    evidence = body.get("evidence") or {}
    vision = evidence.get("vision") or {}
    lines = [
        f"item event {record.get('event_id') or '(held, no id yet)'}  seq {record.get('seq')}  {body.get('t_end_iso')}",
        f"  {describe_item_body(body)}",
        f"  review: {'required' if (body.get('review') or {}).get('required') else 'not required'}"
        f" ({', '.join((body.get('review') or {}).get('reasons') or []) or 'no reasons'})",
        "  plates: " + ", ".join(f"{p} {v.get('delta_g'):+.1f} g +- {v.get('sigma_g'):.1f}"
                                  for p, v in (evidence.get("plates") or {}).items())
        + f"; residual {float(evidence.get('residual_g', 0.0)):+.1f} g; {evidence.get('quality')}",
        f"  camera: {vision.get('camera', '-')}; labels "
        + (", ".join(f"{k} {float(v):.2f}" for k, v in sorted((vision.get("labels") or {}).items())) or "none")
        + f"; hand {'seen' if vision.get('hand_present') else 'not seen'}",
        "",
        table(["", "hypothesis", "probability"],
              [["*" if o["chosen"] else "", option_text(o), _probability(o.get("probability"))]
               for o in options(body)]),
        "",
        f"pictures: {', '.join(record.get('pictures') or []) or 'none'}",
        f"card: {record.get('card')}",
    ]
    return "\n".join(lines)


def _probability(p: Any) -> str:
    if not isinstance(p, int | float):
        return "-"
    return "< 0.001" if 0 < p < 0.001 else f"{p:.3f}"


def _render_list(records: list[dict[str, Any]]) -> str:
    from edge.fusion.encode import describe_item_body

    if not records:
        return "no flagged item events kept"
    return table(["event_id", "seq", "time", "item"],
                 [[r.get("event_id") or "(held)", r.get("seq"), (r.get("body") or {}).get("t_end_iso"),
                   describe_item_body(r.get("body") or {})] for r in records])
