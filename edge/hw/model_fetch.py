"""Download and install the standard COCO SSD MobileNet v1 quantized model, verified by sha256.

The zip is downloaded to a temporary file beside the destination, the model is checked against its
known digest, and only then are `detect.tflite` and `labelmap.txt` moved into place (atomic
renames). On any failure nothing partial is left behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edge.atomic_file import replace_atomically
from edge.errors import ModelError

DEFAULT_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/models/tflite/"
    "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.zip"
)
DETECT_SHA256 = "e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13"
MODEL_NAME = "detect.tflite"
LABELS_NAME = "labelmap.txt"


@dataclass(frozen=True, slots=True)
class InstalledModel:
    model: Path
    labels: Path
    sha256: str


def fetch_model(
    dest: Path, url: str = DEFAULT_URL, expected_sha256: str = DETECT_SHA256, timeout: float = 60.0
) -> InstalledModel:
    """Download the zip at `url` and install it into `dest` (see install_from_zip)."""
    _make_dest(dest)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=dest)
    except OSError as exc:
        raise ModelError(_cannot_write(dest, exc)) from None
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    expected_length = response.headers.get("Content-Length")
                    while block := response.read(1 << 20):
                        try:
                            out.write(block)
                        except OSError as exc:  # the disk, not the network
                            raise ModelError(_cannot_write(dest, exc)) from None
            except (urllib.error.URLError, OSError) as exc:
                raise ModelError(
                    f"download of {url} failed ({exc}); check the network or use --from-file ZIP"
                ) from None
        size = os.path.getsize(temporary)
        if expected_length is not None and size != int(expected_length):
            raise ModelError(f"download of {url} truncated ({size} of {expected_length} bytes); try again")
        return install_from_zip(Path(temporary), dest, expected_sha256)
    finally:
        Path(temporary).unlink(missing_ok=True)


def install_from_zip(archive: Path, dest: Path, expected_sha256: str = DETECT_SHA256) -> InstalledModel:
    """Extract detect.tflite and labelmap.txt from `archive` into `dest` if the model's sha256 matches."""
    _make_dest(dest)
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = {Path(name).name: name for name in bundle.namelist()}
            if MODEL_NAME not in members:
                raise ModelError(f"{archive}: has no {MODEL_NAME}; is it the COCO SSD MobileNet zip?")
            model_bytes = bundle.read(members[MODEL_NAME])
            labels_bytes = bundle.read(members[LABELS_NAME]) if LABELS_NAME in members else None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{archive}: not a readable zip ({exc}); download it again") from None
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != expected_sha256.lower():
        raise ModelError(
            f"{archive}: {MODEL_NAME} has sha256 {actual}, expected {expected_sha256}; refusing to install "
            "a model that is not the published one"
        )
    if labels_bytes is None:
        raise ModelError(f"{archive}: has no {LABELS_NAME}; is it the COCO SSD MobileNet zip?")
    try:
        labels = _write_atomically(dest / LABELS_NAME, labels_bytes)
        model = _write_atomically(dest / MODEL_NAME, model_bytes)
    except OSError as exc:
        raise ModelError(_cannot_write(dest, exc)) from None
    return InstalledModel(model, labels, actual)


def _make_dest(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(_cannot_write(dest, exc)) from None


def _cannot_write(dest: Path, exc: OSError) -> str:
    return f"cannot write into {dest} ({exc.strerror or exc}); free some space or choose another --dest"


def _write_atomically(path: Path, data: bytes) -> Path:
    replace_atomically(path, data, durable=True)
    return path
