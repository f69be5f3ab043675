"""Hardware backends for vision: camera sources (OpenCV), the TFLite runtime (LiteRT / tflite-runtime), pixel ops,
drawing and JPEG encoding, and the model download. The only modules that import cv2 or a TFLite
runtime, and they do it inside functions so importing this package stays cheap."""
