"""Emotion types and crowd mood.

Scores describe facial expressions, not inner feelings: a face that looks HAPPY is
a face with a smile, nothing more. Every surface that shows scores says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

EXPRESSION_CAVEAT = (
    "Scores describe facial expressions, not feelings: a smiling face is scored HAPPY "
    "whatever the person feels."
)


class Emotion(StrEnum):
    """Amazon Rekognition's emotion types."""

    HAPPY = "HAPPY"
    SAD = "SAD"
    ANGRY = "ANGRY"
    CONFUSED = "CONFUSED"
    DISGUSTED = "DISGUSTED"
    SURPRISED = "SURPRISED"
    CALM = "CALM"
    FEAR = "FEAR"


# Valence of each expression on [-1, 1]: how positive a crowd looks. CrowdMood is the
# confidence-weighted mean valence scaled to [-100, 100]. Chosen for a festival: a
# surprised crowd is mildly positive (a drop, a firework), a calm crowd neutral.
VALENCE: Mapping[Emotion, float] = {
    Emotion.HAPPY: 1.0,
    Emotion.SURPRISED: 0.4,
    Emotion.CALM: 0.0,
    Emotion.CONFUSED: -0.3,
    Emotion.SAD: -0.7,
    Emotion.FEAR: -0.7,
    Emotion.DISGUSTED: -0.8,
    Emotion.ANGRY: -0.9,
}


class InvalidScores(ValueError):
    """Scores that do not follow Rekognition's shape."""


@dataclass(frozen=True, slots=True)
class EmotionScores:
    """One face's expression scores, Confidence 0-100 per type (Rekognition's shape)."""

    scores: Mapping[Emotion, float]

    def __post_init__(self) -> None:
        for emotion, confidence in self.scores.items():
            if not isinstance(emotion, Emotion):
                raise InvalidScores(f"unknown emotion type {emotion!r}")
            if not 0.0 <= confidence <= 100.0:
                raise InvalidScores(f"{emotion} confidence {confidence} is outside 0-100")

    @classmethod
    def from_rekognition(cls, emotions: Iterable[Mapping[str, object]]) -> EmotionScores:
        """Build from Rekognition's `Emotions: [{Type, Confidence}]` list."""
        scores: dict[Emotion, float] = {}
        for item in emotions:
            type_name = item.get("Type")
            confidence = item.get("Confidence")
            if not isinstance(type_name, str) or not isinstance(confidence, int | float):
                raise InvalidScores(f"malformed emotion entry {item!r}")
            try:
                emotion = Emotion(type_name)
            except ValueError:
                # Rekognition may add types; an unknown one is not an error, just not ours.
                continue
            scores[emotion] = float(confidence)
        return cls(scores)

    def to_rekognition(self) -> list[dict[str, object]]:
        """Rekognition's `Emotions` list, highest confidence first."""
        ordered = sorted(self.scores.items(), key=lambda kv: kv[1], reverse=True)
        return [{"Type": e.value, "Confidence": round(c, 3)} for e, c in ordered]

    @property
    def dominant(self) -> Emotion | None:
        """The highest-scoring expression, or None when there are no scores."""
        if not self.scores:
            return None
        return max(self.scores.items(), key=lambda kv: kv[1])[0]

    @property
    def valence(self) -> float:
        """This face's mood on [-100, 100] (see VALENCE)."""
        total = sum(self.scores.values())
        if total <= 0:
            return 0.0
        return 100.0 * sum(VALENCE[e] * c for e, c in self.scores.items()) / total


def crowd_mood(faces: Iterable[EmotionScores]) -> float | None:
    """Mean valence of a crowd on [-100, 100]; None when no face was scored."""
    values = [face.valence for face in faces if face.scores]
    if not values:
        return None
    return sum(values) / len(values)
