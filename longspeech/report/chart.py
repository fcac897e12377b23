"""A static talk-time bar chart (PNG) for slides, READMEs and places where HTML is not shown.

Draws on a bare matplotlib Figure with the Agg canvas, so it never touches pyplot's global
state or needs a display, and works inside servers and worker processes.
"""

from __future__ import annotations

from pathlib import Path

from ..files import atomic_write
from ..types import Transcript
from .html import human_duration
from .stats import summarize


def talk_time_chart(transcript: Transcript, out_png: str | Path, *, dpi: int = 100) -> Path:
    """Horizontal bars, one per speaker (report colours), labelled with time and share."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sm = summarize(transcript)
    speakers = list(sm.speakers)
    fig = Figure(figsize=(7.5, 1.4 + 0.45 * max(1, len(speakers))), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    longest = max((s.talk_time for s in speakers), default=0.0)
    unit, scale = (("seconds", 1.0) if longest < 120 else
                   ("minutes", 60.0) if longest < 7200 else ("hours", 3600.0))
    values = [s.talk_time / scale for s in speakers]
    ys = list(range(len(speakers)))
    ax.barh(ys, values, color=[s.color for s in speakers], height=0.6)
    ax.set_yticks(ys, [s.speaker for s in speakers], parse_math=False)  # "$" is no TeX
    ax.invert_yaxis()  # first speaker on top, as in the report
    top = max(values, default=0.0) or 1.0
    ax.set_xlim(0, top * 1.25)
    for y, m, s in zip(ys, values, speakers):
        ax.text(m + top * 0.01, y, f"{human_duration(s.talk_time)}  ({100 * s.share:.0f}%)",
                va="center", fontsize=9, parse_math=False)
    ax.set_xlabel(f"talk time ({unit})")
    ax.set_title(f"Talk time per speaker \u2014 {transcript.recording.id}", fontsize=11,
                 parse_math=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()

    out = atomic_write(Path(out_png), lambda p: fig.savefig(p, format="png",
                                                         metadata={"Software": None}),
                       suffix=".png")
    return out
