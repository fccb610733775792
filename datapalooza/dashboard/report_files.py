"""The artist's setlist report as a file: self-contained HTML (plotly charts with
plotly.js inlined, so it opens offline anywhere) or a PNG (matplotlib)."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from datapalooza.dashboard.schemas import SetlistReportResponse, TrackResult
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion

COLORS = {
    Emotion.HAPPY: "#ffc93c",
    Emotion.SURPRISED: "#ff8c42",
    Emotion.CALM: "#5bc0eb",
    Emotion.CONFUSED: "#9b5de5",
    Emotion.SAD: "#3a86ff",
    Emotion.FEAR: "#7b6ca8",
    Emotion.DISGUSTED: "#8ac926",
    Emotion.ANGRY: "#ff595e",
}
DASH = "\u2013"  # an en dash, for ranges and missing values
VERDICTS = {
    "above": "above the set",
    "average": "about average",
    "below": "below the set",
    "too_few_faces": "too few faces",
    "upcoming": "not played yet",
}


def _mood(value: float | None) -> str:
    return DASH if value is None else f"{value:+.0f}"


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _label(track: TrackResult) -> str:
    return f"{track.number}. {track.title}"


def _title(report: SetlistReportResponse) -> str:
    who = f"{report.artist} on {report.stage}" if report.artist else f"The set on {report.stage}"
    return f"{who}, {report.start:%Y-%m-%d} {_clock(report.start)}{DASH}{_clock(report.end)}"


def render_html(report: SetlistReportResponse) -> str:
    """One HTML file with the charts, the track table and the caveat."""
    import plotly.graph_objects as go

    played = [t for t in report.tracks if t.played]
    labels = [_label(t) for t in played]
    mix = go.Figure()
    for emotion in Emotion:
        values = [t.mix.get(emotion, 0.0) for t in played]
        if any(values):
            mix.add_bar(
                x=labels, y=values, name=emotion.value.title(), marker_color=COLORS[emotion]
            )
    mix.add_scatter(
        x=labels,
        y=[t.mood for t in played],
        name="Mood",
        yaxis="y2",
        mode="lines+markers",
        line={"color": "#222", "width": 3},
    )
    if report.mood is not None:
        mix.add_hline(
            y=report.mood,
            yref="y2",
            line_dash="dash",
            line_color="#e0457b",
            annotation_text=f"set mood {_mood(report.mood)}",
        )
    mix.update_layout(
        barmode="stack",
        title="Expression mix and mood per track",
        height=460,
        yaxis={"title": "expression mix %", "range": [0, 100]},
        yaxis2={"title": "mood", "overlaying": "y", "side": "right", "range": [-100, 100]},
        legend={"orientation": "h", "y": -0.25},
        margin={"b": 120},
    )
    timeline = go.Figure()
    timeline.add_scatter(
        x=[p.start for p in report.timeline],
        y=[p.mood for p in report.timeline],
        mode="lines",
        name="Mood",
        line={"color": "#e0457b", "width": 2},
        connectgaps=False,
    )
    timeline.add_bar(
        x=[p.start for p in report.timeline],
        y=[p.faces_per_minute for p in report.timeline],
        name="Faces / min",
        yaxis="y2",
        marker_color="rgba(90,90,160,0.35)",
    )
    for i, track in enumerate(report.tracks):
        if i % 2 == 0:
            timeline.add_vrect(
                x0=track.start,
                x1=track.end,
                fillcolor="#f4e8ff",
                opacity=0.6,
                line_width=0,
                layer="below",
            )
        timeline.add_annotation(
            x=track.start,
            y=1.0,
            yref="paper",
            text=str(track.number),
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
        )
    timeline.update_layout(
        title="Mood over the set (numbers mark where each track starts)",
        height=380,
        yaxis={"title": "mood", "range": [-100, 100]},
        yaxis2={"title": "faces/min", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    rows = "\n".join(
        "<tr>"
        f"<td>{t.number}</td><td>{html.escape(t.title)}</td>"
        f"<td>{_clock(t.start)}{DASH}{_clock(t.end)}</td><td>{t.faces}</td><td>{_mood(t.mood)}</td>"
        f"<td>{t.dominant.value.title() if t.dominant else DASH}</td>"
        f"<td class='{t.verdict}'>{VERDICTS.get(t.verdict, t.verdict)}"
        f"{'' if t.vs_set is None or not t.played else f' ({t.vs_set:+.0f})'}</td>"
        "</tr>"
        for t in report.tracks
    )
    assumed = (
        " The set's end was not given: the last track's length is assumed."
        if (report.end_assumed)
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(_title(report))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222;
  padding: 0 1rem; }}
h1 {{ margin-bottom: 0.2rem; }}
.caveat {{ background: #fff4dd; border: 1px solid #f0b44c; border-radius: 8px;
  padding: 0.7rem 1rem; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1rem; }}
th, td {{ text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #ddd; }}
.above {{ color: #11804f; font-weight: 700; }} .below {{ color: #c0203a; font-weight: 700; }}
.average, .too_few_faces, .upcoming {{ color: #666; }}
</style></head><body>
<h1>{html.escape(_title(report))}</h1>
<p>{report.faces} faces seen, set mood {_mood(report.mood)} (mean valence of the faces'
expressions, -100 to +100). A track landed above or below the set when its mood differs
from the set's by more than {report.margin:g} points; tracks need {report.min_faces} faces
for a verdict.{assumed}</p>
<p class="caveat"><strong>Read with care:</strong> {html.escape(EXPRESSION_CAVEAT)}</p>
<table><thead><tr><th>#</th><th>Track</th><th>Time</th><th>Faces</th><th>Mood</th>
<th>Most seen expression</th><th>vs set</th></tr></thead><tbody>
{rows}
</tbody></table>
{mix.to_html(full_html=False, include_plotlyjs=True)}
{timeline.to_html(full_html=False, include_plotlyjs=False)}
<p class="caveat">{html.escape(EXPRESSION_CAVEAT)} No face images are part of this report.</p>
</body></html>
"""


def render_png(report: SetlistReportResponse, path: Path) -> None:
    """Two panels: mood per track against the set's mood, and the expression mix."""
    # The object API (no pyplot): no global figure state, no GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    played = [t for t in report.tracks if t.played]
    labels = [_label(t) for t in played] or ["(no track played yet)"]
    figure = Figure(figsize=(11, 8.5), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    moods = [t.mood if t.mood is not None else 0.0 for t in played]
    colors = [
        "#11804f" if t.verdict == "above" else "#c0203a" if t.verdict == "below" else "#8a8a9a"
        for t in played
    ]
    positions = list(range(len(played)))
    top.bar(positions, moods, color=colors)
    if report.mood is not None:
        top.axhline(
            report.mood, color="#e0457b", linestyle="--", label=f"set mood {_mood(report.mood)}"
        )
        top.legend(loc="upper right")
    for x, track in zip(positions, played, strict=True):
        top.annotate(
            f"{track.faces} faces",
            (x, moods[x]),
            ha="center",
            va="bottom" if moods[x] >= 0 else "top",
            fontsize=8,
        )
    top.set_ylim(-100, 100)
    top.set_ylabel("mood (-100 to +100)")
    figure.suptitle(_title(report), fontsize=13)
    top.set_title(EXPRESSION_CAVEAT, fontsize=9, color="#8a5a00")
    bottoms = [0.0] * len(played)
    shown = False
    for emotion in Emotion:
        values = [t.mix.get(emotion, 0.0) for t in played]
        if any(values):
            bottom.bar(
                positions,
                values,
                bottom=bottoms,
                color=COLORS[emotion],
                label=emotion.value.title(),
            )
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
            shown = True
    bottom.set_ylim(0, 100)
    bottom.set_ylabel("expression mix %")
    bottom.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    if shown:  # a set whose tracks saw no face has no mix to label
        bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    figure.savefig(path, format="png")
