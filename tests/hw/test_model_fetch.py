"""get-model's fetch + verify against a local HTTP server serving zips the test builds."""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.errors import ModelError
from edge.hw.model_fetch import fetch_model, install_from_zip

REPO = Path(__file__).resolve().parents[2]
MODEL_BYTES = b"TFL3" + bytes(range(256)) * 40
MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()


def build_zip(path: Path, model: bytes = MODEL_BYTES) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("detect.tflite", model)
        bundle.writestr("labelmap.txt", "???\nperson\nbicycle\n")
    return path


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path == "/truncated.zip":  # promises more bytes than it sends, then hangs up
            body = (Path(self.directory) / "good.zip").read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    site.mkdir()
    build_zip(site / "good.zip")
    build_zip(site / "tampered.zip", MODEL_BYTES + b"!")
    (site / "not-a.zip").write_bytes(b"<html>proxy login</html>")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(site))  # type: ignore[misc]
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_good_checksum_is_installed(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "model"
    installed = fetch_model(dest, f"{server}/good.zip", MODEL_SHA)
    assert installed.model.read_bytes() == MODEL_BYTES and installed.sha256 == MODEL_SHA
    assert installed.labels.read_text().startswith("???")
    assert sorted(p.name for p in dest.iterdir()) == ["detect.tflite", "labelmap.txt"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("tampered.zip", "refusing"), ("not-a.zip", "not a readable zip"), ("truncated.zip", "truncated|failed"),
     ("missing.zip", "failed")],
)
def test_bad_downloads_are_refused_and_leave_nothing(server: str, tmp_path: Path, name: str, message: str) -> None:
    dest = tmp_path / "model"
    with pytest.raises(ModelError, match=message):
        fetch_model(dest, f"{server}/{name}", MODEL_SHA)
    assert list(dest.iterdir()) == []


def test_install_from_file_keeps_previous_model_on_mismatch(tmp_path: Path) -> None:
    dest = tmp_path / "model"
    install_from_zip(build_zip(tmp_path / "good.zip"), dest, MODEL_SHA)
    with pytest.raises(ModelError, match="sha256"):
        install_from_zip(build_zip(tmp_path / "bad.zip", b"evil"), dest, MODEL_SHA)
    assert (dest / "detect.tflite").read_bytes() == MODEL_BYTES


def test_script_installs_from_file_and_prints_config(tmp_path: Path) -> None:
    archive = build_zip(tmp_path / "good.zip")
    ok = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "get-model"), "--dest", str(tmp_path / "m"), "--from-file",
         str(archive), "--sha256", MODEL_SHA],
        capture_output=True, text=True, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert f'model_sha256 = "{MODEL_SHA}"' in ok.stdout
    bad = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "get-model"), "--dest", str(tmp_path / "m2"), "--from-file",
         str(archive)],  # default digest = the real COCO model's: this test zip must be refused
        capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 1 and "refusing" in bad.stderr and not (tmp_path / "m2" / "detect.tflite").exists()


def test_a_destination_that_cannot_be_written_is_one_clear_line_not_a_traceback(server: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("in the way\n")
    dest = tmp_path / "a-file" / "models"  # under a regular file: nothing can be created there
    with pytest.raises(ModelError, match=r"cannot write into .*a-file/models \(.*\); free some space or choose"):
        install_from_zip(build_zip(tmp_path / "good.zip"), dest, MODEL_SHA)
    with pytest.raises(ModelError, match="cannot write into"):
        fetch_model(dest, f"{server}/good.zip", MODEL_SHA)
    script = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "get-model"), "--dest", str(dest), "--from-file",
         str(tmp_path / "good.zip"), "--sha256", MODEL_SHA],
        capture_output=True, text=True, check=False,
    )
    assert script.returncode == 1 and "Traceback" not in script.stderr
    assert script.stderr.startswith("get-model: cannot write into"), script.stderr
