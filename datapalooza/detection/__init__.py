"""Face detection: the FaceDetector implementations and their settings.

The same detector runs in the SageMaker endpoint, on the edge device and locally.
"""

from datapalooza.detection.factory import DETECTORS, load_detector
from datapalooza.detection.settings import DetectorSettings

__all__ = ["DETECTORS", "DetectorSettings", "load_detector"]
