"""Re-measure the statistical camera's rates: the real detector on every photo of ../shared/images.

Stores the raw detections with the measure / held-out split in docs/bench/camera-rates.json and derives
edge/sim/camera_rates.json from the measure half (edge.sim.photo_rates, which is pure).

    .venv/bin/python -m bench.camera_rates [--images DIR] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge.sim.photo_rates import derive_rates, family_of, split_photos

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def measure_camera(images: Path, model_dir: Path, out: Path, rates_out: Path, threshold: float = 0.3) -> dict[str, Any]:
    """Run the real detector on every photo; write the raw detections to `out`, the derived rates to `rates_out`."""
    import cv2
    import numpy as np

    from edge.vision.detector import Detector

    detector = Detector.from_files(model_dir / "detect.tflite", model_dir / "coco_labels.txt")
    files = sorted(images.rglob("*.jpg"))
    names = [str(p.relative_to(images)) for p in files]
    pairs = [(family, name) for name in names if (family := family_of(name))]
    measure, held_out = split_photos(pairs)
    split = {file: "measure" for _, file in measure} | {file: "held_out" for _, file in held_out}
    photos: list[dict[str, object]] = []
    for family, file in sorted(pairs, key=lambda pair: pair[1]):
        image = cv2.imread(str(images / file))
        if image is None:
            raise SystemExit(f"camera_rates: {images / file} is not a readable image")
        detections = detector.detect(image.astype(np.uint8), threshold)
        photos.append({"file": file, "family": family, "split": split[file],
                       "detections": [[d.label, round(d.score, 4)] for d in detections]})
    report = {"model": model_dir.name, "threshold": threshold, "photos": photos,
              "skipped": [n for n in names if family_of(n) is None]}
    out.write_text(json.dumps(report, indent=1) + "\n")
    rates_out.write_text(json.dumps(derive_rates(photos), indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=SHARED / "images")
    parser.add_argument("--model", type=Path, default=SHARED / "models" / "coco_ssd_mobilenet_v1_1.0_quant")
    args = parser.parse_args(argv)
    if not (args.model / "detect.tflite").is_file() or not args.images.is_dir():
        print(f"camera_rates: needs the model in {args.model} and the photos in {args.images}", file=sys.stderr)
        return 1
    report = measure_camera(args.images, args.model, REPO / "docs" / "bench" / "camera-rates.json",
                            REPO / "edge" / "sim" / "camera_rates.json")
    print(f"{len(report['photos'])} photos measured; edge/sim/camera_rates.json rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
