"""How each track of a set landed with the crowd (the artist's view and report).

Per track: the faces captured while it played, their emotion mix, mean mood and
dominant expression, and how its mood compares with the whole set's: a track whose
mood is more than ``margin`` mood points above the set's mean landed *above* the
set, more than ``margin`` below landed *below*, otherwise *average*. A track with
fewer than ``min_faces`` faces gets no verdict (*too_few_faces*): a handful of faces
says little. Tracks that have not started yet are *upcoming*.

Scores describe facial expressions, not feelings: "landed above" means the crowd's
faces looked happier than during the rest of the set.
"""

from __future__ import annotations

from datetime import datetime

from datapalooza.dashboard.queries import mix_percent, nice_bucket, timeline_points
from datapalooza.dashboard.schemas import SetlistReportResponse, TrackResult
from datapalooza.domain.setlists import Setlist
from datapalooza.ports import ResultsReader

DEFAULT_MARGIN = 5.0
DEFAULT_MIN_FACES = 5


def verdict(delta: float | None, faces: int, *, margin: float, min_faces: int) -> str:
    if faces < min_faces or delta is None:
        return "too_few_faces"
    if delta > margin:
        return "above"
    if delta < -margin:
        return "below"
    return "average"


def build_report(
    results: ResultsReader,
    setlist: Setlist,
    *,
    now: datetime,
    margin: float = DEFAULT_MARGIN,
    min_faces: int = DEFAULT_MIN_FACES,
) -> SetlistReportResponse:
    """The report of ``setlist`` from the faces its stage's cameras saw."""
    whole = results.emotion_mix(setlist.stage, setlist.start, setlist.end)
    tracks = []
    for number, track in enumerate(setlist.tracks, start=1):
        mix = results.emotion_mix(setlist.stage, track.start, track.end)
        played = track.start <= now
        delta = None
        if mix.mood is not None and whole.mood is not None:
            delta = round(mix.mood - whole.mood, 2)
        tracks.append(
            TrackResult(
                number=number,
                title=track.title,
                start=track.start,
                end=track.end,
                faces=mix.faces,
                mood=None if mix.mood is None else round(mix.mood, 2),
                dominant=mix.dominant,
                mix=mix_percent(mix.mean_scores),
                vs_set=delta,
                verdict=verdict(delta, mix.faces, margin=margin, min_faces=min_faces)
                if played
                else "upcoming",
                played=played,
            )
        )
    bucket = nice_bucket(setlist.end - setlist.start)
    buckets = results.timeline(setlist.stage, setlist.start, setlist.end, bucket=bucket)
    return SetlistReportResponse(
        stage=setlist.stage,
        artist=setlist.artist,
        start=setlist.start,
        end=setlist.end,
        end_assumed=setlist.end_assumed,
        faces=whole.faces,
        mood=None if whole.mood is None else round(whole.mood, 2),
        margin=margin,
        min_faces=min_faces,
        tracks=tracks,
        timeline=timeline_points(buckets, bucket=bucket, now=now),
        bucket_seconds=int(bucket.total_seconds()),
    )
