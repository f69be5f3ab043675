"""`shelf-node serial sniff` on a real pty shelf from the simulator whose MCU corrupts a line every 0.2 s:
directly on the port when no daemon answers, and through a running node's control socket while the node holds
the port. Both say their mode first, decode the weight lines and call the corrupted ones by their checksum."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from edge.sim.scenario import Action, Scenario
from tests.plugins.waiting import wait_until


def corrupting_scenario(seed: int, layout: ShelfLayout) -> Scenario:
    corrupt = [Action(at=0.5 + 0.2 * i, kind="corrupt", mode="bitflip") for i in range(300)]
    return generate_scenario(seed, 120.0, layout).model_copy(update={"actions": corrupt, "duration_s": 120.0})


def sniffed(args: list[str]) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["serial", "sniff", "--json", *args])
    return result.exit_code, [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def check_lines(lines: list[dict[str, Any]], mode: str) -> None:
    assert lines[0]["type"] == "mode" and lines[0]["mode"] == mode, lines[:1]
    judged = [line for line in lines if line["type"] == "line"]
    weights = [line for line in judged if line["verdict"] == "ok" and line["kind"] == "weight"]
    assert len(weights) > 20, judged[:5]
    assert all(len(line["fields"]["counts"]) == 8 and line["raw"].startswith("$W,") for line in weights)
    seqs = [line["fields"]["seq"] for line in weights]
    assert seqs == sorted(seqs)
    bad = [line for line in judged if line["verdict"] != "ok"]
    assert bad, "no corrupted line seen in the sniff"
    checksums = [line for line in bad if line["verdict"] == "checksum"]
    assert checksums and all(c["fields"]["received"] != c["fields"]["computed"] for c in checksums), bad


def test_sniff_directly_when_no_daemon_answers(tmp_path: Path) -> None:
    config_path, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=3)
    with PtyShelf(corrupting_scenario(3, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        code, lines = sniffed(["--config", str(config_path), "--socket", str(tmp_path / "none.sock"),
                               "--duration", "3"])
    assert code == 0, lines
    check_lines(lines, "direct")
    assert lines[0]["port"] == str(tmp_path / "shelf-tty")
    human = CliRunner().invoke(cli, ["serial", "sniff", "--config", str(config_path), "--socket",
                                     str(tmp_path / "none.sock"), "--count", "1"])
    assert human.output.startswith("serial sniff DIRECT on"), human.output  # the port is gone: it says why
    assert human.exit_code == 1


def test_sniff_through_the_daemon_that_holds_the_port(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=3)
    install_factory_calibration(config, layout)
    socket = tmp_path / "control.sock"
    with PtyShelf(corrupting_scenario(3, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        node = Node(config, control_socket=socket)
        node.start()
        try:
            assert wait_until(lambda: node.counters.frames > 100, 20), node.status_line()
            code, lines = sniffed(["--socket", str(socket), "--config", str(tmp_path / "absent.toml"),
                                   "--duration", "2.5"])
            assert code == 0, lines
            check_lines(lines, "daemon")
            assert lines[0]["port"] == str(tmp_path / "shelf-tty")
            numbers = [line["n"] for line in lines if line["type"] == "line"]
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # none missed, none twice
            human = CliRunner().invoke(cli, ["serial", "sniff", "--socket", str(socket), "--count", "30"])
            assert human.exit_code == 0 and human.output.startswith("serial sniff THROUGH THE DAEMON"), human.output
            assert " weight seq=" in human.output
        finally:
            node.stop(settle_s=0)
