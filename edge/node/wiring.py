"""Building the node's parts from config: the state directory, the optional camera, the serial
recording, and the command handlers bound to the parts they act on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edge.config import NodeConfig, config_digest
from edge.errors import StateError
from edge.node.commands import NodeCommands
from edge.node.line_recorder import LineRecorder
from edge.weighing.weigher import Weigher

if TYPE_CHECKING:
    from edge.fusion import FusionStage
    from edge.node.answers import AnswerFeedback
    from edge.node.appearance_feed import AppearanceFeed
    from edge.node.gallery_feed import GalleryFeed
    from edge.node.items import ItemStep
    from edge.node.review import ReviewKeeper
    from edge.planogram import Planogram
    from edge.vision.service import VisionService

log = logging.getLogger(__name__)


def open_state_dir(state_dir: Path) -> Path:
    """The node's state directory, created when missing, but only its last component (as systemd's
    StateDirectory= does): a mistyped path then fails here instead of starting an empty node in a new
    tree. A newly created directory is logged as a warning, since it means no calibration and no outbox."""
    if state_dir.is_dir():
        return state_dir
    if state_dir.exists():
        raise StateError(f"node.state_dir {state_dir} exists but is not a directory; fix node.state_dir")
    parent = state_dir.parent
    if not parent.is_dir():
        raise StateError(
            f"node.state_dir {state_dir}: its parent {parent} does not exist; is node.state_dir mistyped? "
            f"Only the last component is created (as systemd's StateDirectory= does)"
        )
    try:
        state_dir.mkdir()
    except FileExistsError:  # another process made it meanwhile
        return state_dir
    except OSError as exc:
        raise StateError(f"node.state_dir {state_dir}: cannot create it: {exc.strerror or exc}; "
                         f"check the permissions of {parent}") from None
    log.warning("created a NEW, EMPTY state directory %s: no calibration, no queued events, no snapshots. "
                "If this node kept its state elsewhere, node.state_dir is wrong: stop it and fix the config",
                state_dir)
    return state_dir


def make_vision(config: NodeConfig) -> VisionService | None:
    """The camera pipeline when [camera] is configured (imported lazily: it pulls numpy and OpenCV)."""
    if config.camera is None:
        return None
    from edge.vision.service import VisionService

    return VisionService(config)


def make_review(config: NodeConfig, vision: VisionService | None) -> ReviewKeeper:
    """Flagged item events kept in state_dir/review for `shelf-node review show`, with their pictures
    when there is a camera."""
    from edge.node.review import ReviewKeeper

    return ReviewKeeper(config.node.state_dir, None if vision is None else vision.review)


def make_feedback(config: NodeConfig, items: ItemStep, gallery: GalleryFeed) -> AnswerFeedback:
    """Reviewers' answers reach fusion: its shelf state follows them, their outcomes are kept in
    state_dir/review_outcomes.json and lower the published confidence where fusion proved over-confident."""
    from edge.node.answers import AnswerFeedback

    feedback = AnswerFeedback(config.node.state_dir, items.stage)
    items.feedback = feedback
    gallery.on_answer = feedback.on_answer
    return feedback


def make_appearance(config: NodeConfig, vision: VisionService | None, stage: FusionStage, feed: GalleryFeed,
                    planogram: Callable[[], Planogram | None]) -> AppearanceFeed | None:
    """The look-alike splitters learned from the gallery, when the node has a camera, a detector and the
    gallery with `appearance` on (docs/gallery.md); None otherwise (imported lazily: it loads the model)."""
    if vision is None or config.detector is None or not (config.gallery.enabled and config.gallery.appearance):
        return None
    from edge.node.appearance_feed import AppearanceFeed

    return AppearanceFeed.for_node(config, vision, stage, feed, planogram)


def open_recording(path: Path, config: NodeConfig) -> LineRecorder:
    """A capture file for every serial line, headed with what replay needs to check it against a config."""
    header = {"node": f"{config.node.store_id}/{config.node.node_id}", "config_digest": config_digest(config),
              "protocol": config.serial.protocol, "channels": str(config.serial.channels),
              "source": config.serial.port}
    return LineRecorder(path, header)


def node_commands(config: NodeConfig, weigher: Weigher, vision: VisionService | None,
                  on_calibration: Callable[[], None] | None = None) -> NodeCommands:
    if vision is None:
        return NodeCommands(config.plate_names(), weigher, on_calibration=on_calibration)
    return NodeCommands(config.plate_names(), weigher, camera=vision, snapshots=vision.snapshots,
                        on_calibration=on_calibration)
