"""Find a TFLite runtime (LiteRT first, tflite-runtime as fallback) and build an interpreter."""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any

from edge.errors import ModelError

log = logging.getLogger(__name__)
EDGETPU_LIBRARY = "libedgetpu.so.1"


def runtime_classes() -> tuple[Any, Any, str]:
    """(Interpreter, load_delegate, runtime name), imported lazily."""
    try:
        from ai_edge_litert.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate, "tflite-runtime"
    except ImportError:
        raise ModelError(
            "no TFLite runtime installed: pip install ai-edge-litert (or tflite-runtime with numpy<2 "
            "where LiteRT has no wheel)"
        ) from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None, what: str) -> None:
    """Raise ModelError when `path` is missing or its sha256 differs from `expected` (if given)."""
    if not path.is_file():
        raise ModelError(f"{what} {path}: file not found; fix [detector] or run scripts/get-model")
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ModelError(
            f"{what} {path}: sha256 is {actual}, config expects {expected}; the file is corrupt or not the "
            "configured one (re-run scripts/get-model or fix the digest in [detector])"
        )


def load_interpreter(model: Path, threads: int = 1, edgetpu: bool = False, keep_intermediates: bool = False) -> Any:
    """An allocated interpreter for `model`; ModelError with the fix when anything is missing.

    `keep_intermediates`: LiteRT's `experimental_preserve_all_tensors`, so `get_tensor` can read the
    activations of inner layers after `invoke` (edge.hw.features); without it their buffers are reused."""
    interpreter_class, load_delegate, runtime = runtime_classes()
    delegates = []
    if edgetpu:
        try:
            delegates.append(load_delegate(EDGETPU_LIBRARY))
        except (ValueError, OSError, RuntimeError) as exc:
            raise ModelError(
                f"Edge TPU delegate {EDGETPU_LIBRARY} could not be loaded ({exc}); install libedgetpu1-std "
                "and plug in the Coral, or set [detector] edgetpu = false"
            ) from None
    try:
        extra = {"experimental_preserve_all_tensors": True} if keep_intermediates else {}
        with warnings.catch_warnings():  # LiteRT warns that keeping every tensor costs memory: ~2 MB here, wanted
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
            interpreter = interpreter_class(
                model_path=str(model), num_threads=threads, experimental_delegates=delegates or None, **extra
            )
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"model {model}: not a usable TFLite model for {runtime} ({exc})") from None
    except (AttributeError, ImportError) as exc:  # tflite-runtime 2.14 built against numpy 1.x
        raise ModelError(
            f"{runtime} cannot run with this numpy ({exc}); pip install 'numpy<2' or use ai-edge-litert"
        ) from None
    log.info("loaded %s with %s (%d threads%s)", model, runtime, threads, ", Edge TPU" if edgetpu else "")
    return interpreter
