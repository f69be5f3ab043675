"""The rendered camera: the shelf camera's frames for a simulated scenario (docs/simulator.md,
"Rendered camera"). Real product photos (../shared/images) composited into a fixed shelf view, moving
out of a plate's region on a pick and into it on a put, with the nuisances of a real camera; written
as `<unix ms>.jpg` frames, offline or live. Pure numpy; pixels are resized and JPEG-coded through
edge/hw (OpenCV).

    camera = camera_for(scenario, truth, plates)        # truth: records in unix time (a capture's)
    write_frames(camera, Path("run.frames"), t0, t1)    # offline
    LiveFrames(camera, Path("/tmp/frames"), until).start()   # live, for [camera] source = /tmp/frames
    MjpegStream("127.0.0.1", 8081).start(camera, until)     # live, for [camera] source = its .url
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge.sim.camera.mjpeg import MjpegStream
from edge.sim.camera.output import FramesWritten, LiveFrames, LivePlayer, write_frames
from edge.sim.camera.photos import DEFAULT_IMAGES, PhotoLibrary, Split
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.timeline import Nuisances
from edge.sim.camera.view import ShelfView
from edge.sim.catalogue import STORE
from edge.sim.scenario import Scenario
from edge.sim.truth import TruthRecord

if TYPE_CHECKING:
    from edge.config.plates import PlateSection

__all__ = [
    "FramesWritten",
    "LiveFrames",
    "LivePlayer",
    "MjpegStream",
    "Nuisances",
    "PhotoLibrary",
    "RenderedCamera",
    "ShelfView",
    "camera_for",
    "write_frames",
]


def camera_for(
    scenario: Scenario,
    truth: Sequence[TruthRecord],
    plates: Sequence[str] | Sequence[PlateSection],
    images: Path | None = DEFAULT_IMAGES,
    split: Split = "held_out",
    active_fps: float = 10.0,
    idle_fps: float = 1.0,
) -> RenderedCamera:
    """The rendered camera of a scenario: plates by name (the default view) or a node config's
    [[plates]] (their `roi`s, when every plate has one); images None paints every SKU as a plain pack."""
    names = [p if isinstance(p, str) else p.name for p in plates]
    sections = [p for p in plates if not isinstance(p, str)]
    view = ShelfView.from_config(sections) if sections else ShelfView.grid(names)
    stock: dict[str, list[str]] = {}
    for slot in scenario.planogram:
        if slot.sku not in stock.setdefault(slot.plate, []):
            stock[slot.plate].append(slot.sku)
    library = PhotoLibrary(images, split) if images is not None else None
    store = {item.sku: item for item in STORE}  # a SKU the scenario gives no look keeps the store's
    items = [item if item.look or item.labels else store.get(item.sku, item) for item in scenario.items]
    return RenderedCamera(list(truth), items, view, scenario.seed, library, stock, active_fps, idle_fps)
