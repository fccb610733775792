import pytest

from datapalooza.domain.emotions import Emotion, EmotionScores, InvalidScores, crowd_mood


def test_rekognition_shape_round_trips_and_names_the_dominant_expression():
    scores = EmotionScores.from_rekognition(
        [{"Type": "CALM", "Confidence": 20.0}, {"Type": "HAPPY", "Confidence": 75.5}]
    )
    assert scores.dominant is Emotion.HAPPY
    assert scores.to_rekognition()[0] == {"Type": "HAPPY", "Confidence": 75.5}


def test_unknown_types_from_a_newer_api_are_ignored_but_bad_entries_fail():
    scores = EmotionScores.from_rekognition(
        [{"Type": "BORED", "Confidence": 50.0}, {"Type": "SAD", "Confidence": 10.0}]
    )
    assert set(scores.scores) == {Emotion.SAD}
    with pytest.raises(InvalidScores):
        EmotionScores.from_rekognition([{"Type": "SAD"}])
    with pytest.raises(InvalidScores):
        EmotionScores({Emotion.SAD: 140.0})


def test_crowd_mood_is_positive_for_smiles_negative_for_anger_and_none_when_empty():
    happy = EmotionScores({Emotion.HAPPY: 90.0, Emotion.CALM: 10.0})
    angry = EmotionScores({Emotion.ANGRY: 80.0, Emotion.CALM: 20.0})
    assert crowd_mood([happy]) == pytest.approx(90.0)
    assert crowd_mood([angry]) == pytest.approx(-72.0)
    assert crowd_mood([happy, angry]) == pytest.approx(9.0)
    assert crowd_mood([]) is None
    assert EmotionScores({}).dominant is None
