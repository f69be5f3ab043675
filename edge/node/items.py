"""The node's fusion step: the planogram's way in, weight events to item events, item events to the outbox.

Shared by the daemon (`Node`) and replay, so both produce item events through the same code. The
planogram comes from `[fusion] planogram = FILE` at start, then from the hub (`on_planogram`, the
MqttLink callback, on its inbound thread). Until one arrives there are no item events (nothing to name
items by); weight events flow as before. Item events are submitted as kind `item`; the weight event an
item rests on is named by its outbox `event_id` and `seq` (docs/fusion.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from edge.config import NodeConfig
from edge.fusion import FusionStage, FusionStatus, item_event_to_dict
from edge.fusion.encode import describe_item
from edge.fusion.settings import settings_from_config
from edge.model import ItemEvent, PlateEvidence, WeightEvent, WeightEventRef
from edge.planogram import Planogram, load_planogram_file

if TYPE_CHECKING:
    from edge.node.answers import AnswerFeedback
    from edge.node.review import ReviewKeeper

log = logging.getLogger(__name__)

Submit = Callable[[str, dict[str, Any], float], Any]  # Outbox.submit(kind, body, produced_at)


class ItemStep:
    def __init__(self, config: NodeConfig, submit: Submit | None = None,
                 planogram: Planogram | None = None) -> None:
        """`planogram` overrides `[fusion] planogram` (replay --planogram); ConfigError if the file is bad."""
        plates = config.plate_names()
        if planogram is None and config.fusion.planogram is not None:
            planogram = load_planogram_file(config.fusion.planogram, plates)
        self.stage = FusionStage(plates, planogram, settings_from_config(config.fusion))
        self.planogram = planogram  # the one applied last (the gallery checks SKUs against its catalogue)
        self.review: ReviewKeeper | None = None  # keeps flagged item events and their pictures (edge/node/review.py)
        # reviewers' answers: the published confidence's correction, flagged events named to fusion (answers.py)
        self.feedback: AnswerFeedback | None = None
        # after each item event is in the outbox, with what submit returned (the gallery feed, docs/gallery.md)
        self.on_item: Callable[[ItemEvent, Any], None] | None = None
        self.submit = submit
        self.publish_weight_events = config.fusion.publish_weight_events
        # read before each weight event: the node's maintenance switch (edge.gpio.maintenance.MaintenanceMode.on)
        self.maintenance: Callable[[], bool] | None = None
        # Steps that raised (a fusion bug): counted for the node's health ('fusion' degrades, never restarts),
        # logged with the traceback; that weight event goes out without its item event, weighing goes on.
        self.errors = 0

    def on_planogram(self, planogram: Planogram) -> None:
        self.stage.set_planogram(planogram)
        self.planogram = planogram

    def set_maintenance(self, on: bool) -> None:
        self.stage.set_maintenance(on)

    def weight_event(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None, camera_ok: bool | None,
                     now: float, event_id: str | None = None, seq: int | None = None) -> list[ItemEvent]:
        if not self.stage.has_planogram:
            return []
        if self.maintenance is not None:
            self.stage.set_maintenance(self.maintenance())
        return self._guarded(f"weight event {event.delta_g:+.1f} g", lambda: self.stage.on_weight_event(
            event, evidence, camera_ok, now, WeightEventRef(event_id, seq)))

    def poll(self, now: float) -> list[ItemEvent]:
        return self._guarded("poll", lambda: self.stage.poll(now))

    def flush(self) -> list[ItemEvent]:
        return self._guarded("flush", self.stage.flush)

    def _guarded(self, what: str, step: Callable[[], list[ItemEvent]]) -> list[ItemEvent]:
        try:
            items = step()
        except Exception:  # counted in health and logged with traceback: the processing thread must live on
            self.errors += 1
            log.exception("fusion failed on %s (error %d): no item event for it; weight events still go out. "
                          "This is a bug: send `shelf-node support-bundle` to the developers", what, self.errors)
            return []
        return self._out(items)

    def status(self) -> FusionStatus:
        return self.stage.status()

    def _out(self, items: list[ItemEvent]) -> list[ItemEvent]:
        out = []
        for item in items:
            published = item if self.feedback is None else self.feedback.published(item)
            out.append(published)
            log.info("item: %s", describe_item(published))
            if self.submit is not None:
                body = item_event_to_dict(published)
                job = self.review.prepare(published, body) if self.review is not None else None
                info = self.submit("item", body, published.t_end)
                if self.review is not None:
                    self.review.submitted(job, info, self.planogram)
                if self.feedback is not None:
                    self.feedback.submitted(item, published, info)
                if self.on_item is not None:
                    self.on_item(published, info)
        return out
