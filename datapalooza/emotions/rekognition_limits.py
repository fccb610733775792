"""Amazon Rekognition's fixed limits for the images we send to DetectFaces, in one table.

Source: "Guidelines and quotas in Amazon Rekognition", Set quotas, Amazon Rekognition
Image (https://docs.aws.amazon.com/rekognition/latest/dg/limits.html):

- "The minimum image dimensions is 80 pixels for both height and width."
- "Maximum image size as raw bytes passed in as parameter to an API is 5 MB." The
  DetectFaces API reference gives the exact figure: ``Image.Bytes`` is at most 5242880
  bytes (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Image.html).
- "To be detected, a face must be no smaller than 40x40 pixels in an image with
  1920X1080 pixels. Images with dimensions higher than 1920X1080 pixels will need a
  larger minimum face size proportionally."
- "Amazon Rekognition supports the PNG and JPEG image formats."
- DetectFaces "detects the 100 largest faces in the image"
  (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectFaces.html).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RekognitionImageLimits:
    """What one DetectFaces image must satisfy (and what one call returns at most)."""

    min_side_px: int
    max_image_bytes: int
    min_face_px: int
    face_reference_px: tuple[int, int]  # the image size min_face_px is stated for
    formats: frozenset[str]  # Pillow's format names
    max_faces: int


REKOGNITION_LIMITS = RekognitionImageLimits(
    min_side_px=80,
    max_image_bytes=5 * 1024 * 1024,
    min_face_px=40,
    face_reference_px=(1920, 1080),
    formats=frozenset({"JPEG", "PNG"}),
    max_faces=100,
)
