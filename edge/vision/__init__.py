"""Vision logic over frames and detections: look-back ring, motion, plate regions, evidence, snapshots.

Pure Python + numpy; the camera and detector backends that produce frames and detections live
in `edge/hw/`. `edge.vision.service.VisionService` wires them together for the daemon.
"""
