"""`config check` checks the files a config refers to, as `run` will (issue 11 item 10).

Real files in a temporary directory; TLS material made by the openssl command line.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import parse_config
from edge.config.files import FileReport, check_files

from .test_loader import MINIMAL


def node_toml(tmp_path: Path, extra: str = "") -> str:
    return MINIMAL.replace('node_id = "n1"', f'node_id = "n1"\nstate_dir = "{tmp_path / "state"}"') + extra


def report_for(tmp_path: Path, extra: str, environ: dict[str, str] | None = None) -> FileReport:
    return check_files(parse_config(node_toml(tmp_path, extra)), environ or {})


def test_a_config_without_references_is_clean(tmp_path: Path) -> None:
    report = report_for(tmp_path, "")
    assert report.problems == []
    assert report.notes == [f"node.state_dir: {tmp_path / 'state'} does not exist yet; the node creates it, empty "
                            "(no calibration)"]


def test_a_missing_secret_file_is_a_problem_and_its_content_is_never_shown(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    report = report_for(tmp_path, f'[mqtt]\nusername = "u"\npassword = "file:{missing}"\n')
    assert report.problems == [f'mqtt.password: secret "file:{missing}": cannot read {missing}: No such file or '
                               "directory; create it (mode 0640, the secret on one line) or fix the reference"]
    missing.write_text("hunter2\n")
    missing.chmod(0o640)
    report = report_for(tmp_path, f'[mqtt]\nusername = "u"\npassword = "file:{missing}"\n')
    assert report.problems == []
    assert "hunter2" not in repr(report)
    assert not any(note.startswith("mqtt.password") for note in report.notes)
    missing.chmod(0o644)
    report = report_for(tmp_path, f'[mqtt]\nusername = "u"\npassword = "file:{missing}"\n')
    assert f"mqtt.password: {missing} is readable by every user (mode 0644); run: chmod o-r {missing}" in report.notes


def test_credentials_are_checked_when_the_credentials_directory_is_set(tmp_path: Path) -> None:
    extra = '[mqtt]\nusername = "u"\npassword = "credential:mqtt-password"\n'
    (problem,) = report_for(tmp_path, extra, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).problems
    assert problem.startswith(f'mqtt.password: secret "credential:mqtt-password": cannot read {tmp_path}/mqtt-password')
    (tmp_path / "mqtt-password").write_text("pw")
    assert report_for(tmp_path, extra, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).problems == []


def test_a_credential_outside_systemd_is_a_note_not_a_failure(tmp_path: Path) -> None:
    report = report_for(tmp_path, '[mqtt]\nusername = "u"\npassword = "credential:mqtt-password"\n')
    assert report.problems == []
    assert any(note.startswith('mqtt.password: "credential:mqtt-password" not checked: $CREDENTIALS_DIRECTORY is '
                               "not set here") for note in report.notes)


def test_model_and_labels_must_exist_and_match_their_digests(tmp_path: Path) -> None:
    model, labels = tmp_path / "detect.tflite", tmp_path / "labels.txt"
    extra = f'[detector]\nmodel = "{model}"\nlabels = "{labels}"\nmodel_sha256 = "{"0" * 64}"\n'
    assert report_for(tmp_path, extra).problems == [
        f"detector.model: {model}: cannot read: No such file or directory; fix the path or its permissions",
        f"detector.labels: {labels}: cannot read: No such file or directory; fix the path or its permissions",
    ]
    model.write_bytes(b"not the model")
    labels.write_text("person\n")
    actual = hashlib.sha256(b"not the model").hexdigest()
    assert report_for(tmp_path, extra).problems == [
        f"detector.model_sha256: {model} has sha256 {actual}, not the configured {'0' * 64}; the file is corrupt "
        "or another one (re-run scripts/get-model, or put its digest in detector.model_sha256 if it was replaced "
        "on purpose)"
    ]
    assert report_for(tmp_path, extra.replace("0" * 64, actual)).problems == []


def test_a_directory_named_as_a_file_is_a_problem(tmp_path: Path) -> None:
    extra = f'[detector]\nmodel = "{tmp_path}"\nlabels = "{tmp_path}"\n'
    assert report_for(tmp_path, extra).problems == [
        f"detector.model: {tmp_path}: is a directory; name the file",
        f"detector.labels: {tmp_path}: is a directory; name the file",
    ]


def test_the_ca_file_must_be_a_pem_certificate(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    extra = f'[mqtt.tls]\nca_file = "{ca}"\n'
    assert report_for(tmp_path, extra).problems == [
        f"mqtt.tls.ca_file: {ca}: cannot read: No such file or directory; fix the path or its permissions"
    ]
    ca.write_text("hello\n")
    (problem,) = report_for(tmp_path, extra).problems
    assert problem.startswith(f"mqtt.tls.ca_file: {ca}: not a PEM CA certificate (")


@pytest.fixture
def two_certificates(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(certificate, its key, another key), made by openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not installed (apt-get install openssl)")
    for name in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", f"/CN={name}", "-days", "1", "-keyout", str(tmp_path / f"{name}.key"),
                        "-out", str(tmp_path / f"{name}.pem")], check=True, capture_output=True)
    return tmp_path / "a.pem", tmp_path / "a.key", tmp_path / "b.key"


def test_the_client_key_must_match_its_certificate(tmp_path: Path, two_certificates: tuple[Path, Path, Path]) -> None:
    cert, key, other_key = two_certificates
    extra = f'[mqtt.tls]\nca_file = "{cert}"\ncert_file = "{cert}"\nkey_file = "{other_key}"\n'
    (problem,) = report_for(tmp_path, extra).problems
    assert problem.startswith(f"mqtt.tls.key_file: {other_key}: cannot be used with cert_file {cert} (")
    assert report_for(tmp_path, extra.replace(str(other_key), str(key))).problems == []


def test_state_dir_and_outbox_paths(tmp_path: Path) -> None:
    text = node_toml(tmp_path).replace(str(tmp_path / "state"), str(tmp_path / "typo" / "state"))
    (problem,) = check_files(parse_config(text), {}).problems
    assert problem == (f"node.state_dir: {tmp_path}/typo/state: its parent {tmp_path}/typo does not exist; is the "
                       "path mistyped? The node creates only the last component (as systemd's StateDirectory=)")
    (tmp_path / "state").write_text("")
    assert report_for(tmp_path, f'[outbox]\npath = "{tmp_path}"\n').problems == [
        f"node.state_dir: {tmp_path}/state: exists but is not a directory; fix node.state_dir",
        f"outbox.path: {tmp_path}: is a directory; name the SQLite file, e.g. {tmp_path}/outbox.sqlite3",
    ]


def test_camera_and_serial_devices_absent_now_are_notes_a_missing_video_file_is_a_problem(tmp_path: Path) -> None:
    text = node_toml(tmp_path, '[camera]\nsource = "/dev/v4l/by-id/none"\n').replace('"loop://"', '"/dev/ttyNONE"')
    report = check_files(parse_config(text), {})
    assert report.problems == []
    assert report.notes[1:] == [
        "camera.source: /dev/v4l/by-id/none is not present now (unplugged?); the node retries until it appears",
        "serial.port: /dev/ttyNONE is not present now (unplugged?); the node retries until it appears",
    ]
    report = report_for(tmp_path, f'[camera]\nsource = "{tmp_path}/shelf.mp4"\n')
    assert report.problems == [
        f"camera.source: {tmp_path}/shelf.mp4: not found; fix the path (a video file or a directory of frames)"
    ]


def test_config_check_refuses_what_run_would_refuse(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(node_toml(tmp_path, f'[mqtt]\nusername = "u"\npassword = "file:{tmp_path}/pw"\n'))
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f'{config}: mqtt.password: secret "file:{tmp_path}/pw": cannot read')
    assert f"note: {config}: node.state_dir:" in result.stderr
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", "--schema-only", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (tmp_path / "pw").write_text("pw\n")
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", "--json", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"checked": "schema and files"' in result.stdout


def test_config_check_loads_the_model_as_run_does(tmp_path: Path, shared_model_dir: Path) -> None:
    models = shared_model_dir
    config = tmp_path / "node.toml"
    detector = f'[detector]\nmodel = "{models / "detect.tflite"}"\nlabels = "{models / "coco_labels.txt"}"\n'
    config.write_text(node_toml(tmp_path, detector))
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (tmp_path / "saved-page.tflite").write_text("<html>not a model</html>\n")
    config.write_text(node_toml(tmp_path, detector.replace(str(models / "detect.tflite"),
                                                           str(tmp_path / "saved-page.tflite"))))
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{config}: detector: model {tmp_path}/saved-page.tflite: not a usable TFLite model" in result.stderr


def test_relative_paths_get_a_note_on_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = node_toml(tmp_path, '[outbox]\npath = "outbox.sqlite3"\n').replace(f'"{tmp_path / "state"}"', '"state"')
    report = check_files(parse_config(text), {})
    assert report.problems == []
    assert report.notes[-2:] == [
        f"node.state_dir: state is relative: the node resolves it against its working directory, which is / under "
        f"systemd (here it is {tmp_path})",
        f"outbox.path: outbox.sqlite3 is relative: the node resolves it against its working directory, which is / "
        f"under systemd (here it is {tmp_path})",
    ]


PLANOGRAM = ('{"format": 2, "id": "pg", "version": 1, "catalogue": [{"sku": "COLA-33", "name": "Cola", '
             '"unit_weight_g": 350.0, "unit_sigma_g": 4.0, "labels": []}], "plates": {"p1": [{"sku": "COLA-33"}]}}')


def test_the_fusion_planogram_file_must_exist_and_fit_the_plates(tmp_path: Path) -> None:
    planogram = tmp_path / "planogram.json"
    config = tmp_path / "node.toml"
    config.write_text(node_toml(tmp_path, f'[fusion]\nplanogram = "{planogram}"\n'))

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edge", "config", "check", str(config)],
                              capture_output=True, text=True)

    result = check()
    assert result.returncode == 2
    assert result.stderr.startswith(f"{config}: fusion.planogram: {planogram}: cannot read: No such file")
    planogram.write_text(PLANOGRAM.replace('"p1"', '"p9"'))
    result = check()
    assert result.returncode == 2
    assert result.stderr.startswith(f"{config}: fusion.planogram: {planogram}: planogram: plates p9 do not exist")
    planogram.write_text(PLANOGRAM)
    result = check()
    assert result.returncode == 0, result.stderr
