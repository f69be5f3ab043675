"""The node tests' quiet shelf: a started Node on a real pty shelf from the simulator, factory-calibrated, with
no interaction of its own (the test makes the picks), handed over once the shelf reads stable."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from edge.config import NodeConfig
from edge.demo.setup import install_factory_calibration
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from edge.sim.scenario import Scenario
from tests.plugins.waiting import wait_until


def quiet_scenario(seed: int, layout: ShelfLayout) -> Scenario:
    """300 s of the simulated shelf with no interaction."""
    return generate_scenario(seed, 300.0, layout).model_copy(update={"actions": [], "duration_s": 300.0})


@contextmanager
def node_on_quiet_shelf(config: NodeConfig, tmp_path: Path, seed: int,
                        control_socket: Path | None = None) -> Iterator[tuple[Node, PtyShelf]]:
    """(node, shelf), the node started and the shelf stable. Stopping the node is the test's (how it stops is
    what some tests test); it is stopped here only when the shelf never reads stable."""
    layout = ShelfLayout.from_config(config, seed=seed)
    install_factory_calibration(config, layout)
    with PtyShelf(quiet_scenario(seed, layout), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        node = Node(config, control_socket=control_socket)
        node.start()
        try:
            assert wait_until(lambda: node.weigher.shelf_stable(), 20), node.status_line()
        except BaseException:
            node.stop()
            raise
        yield node, shelf


class Stoppable(Protocol):
    def stop(self) -> None: ...


def stop_everything(daemons: list[subprocess.Popen[bytes]], *parts: Stoppable) -> None:
    """Kill the daemons a test left running, then stop the watcher, shelf and broker it started, in that order."""
    for proc in daemons:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for part in parts:
        part.stop()
