"""A face scored from its crop sheet tile reads as it does from its full crop: real
photographs, the project's detector and the local expression model."""

from __future__ import annotations

from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer
from datapalooza.crop_sheets import CELL_PX, SheetLayout, build_sheet
from datapalooza.emotions.bootstrap import default_cache_dir
from datapalooza.images import decode_image
from tests.helpers.emotions import real_face_crops


def test_tiles_keep_the_dominant_expression_and_scores_within_five_points() -> None:
    analyzer = OnnxEmotionAnalyzer(cache_dir=default_cache_dir(), threads=1, max_batch=8)
    crops = [decode_image(jpeg) for _, jpeg in real_face_crops()]
    assert all(max(crop.shape[:2]) > CELL_PX for crop in crops)  # the tiles are scaled down
    sheet = build_sheet(crops, quality=75)  # the edge's defaults
    layout = SheetLayout.from_metadata(sheet.layout.metadata())
    tiles = layout.cut(decode_image(sheet.jpeg))

    from_crops = analyzer.analyze_decoded(crops)
    from_tiles = analyzer.analyze_decoded(tiles)
    for crop, tile in zip(from_crops, from_tiles, strict=True):
        assert crop.scores is not None and tile.scores is not None
        assert tile.scores.dominant == crop.scores.dominant
        for emotion, score in crop.scores.scores.items():
            assert abs(tile.scores.scores[emotion] - score) < 5.0
