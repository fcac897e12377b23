"""A self-contained HTML page for a BLAB run: per-task scores and score vs audio duration
(the benchmark's main analysis), the plot inlined as a PNG so the page needs no network."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from ..files import atomic_write_text


def score_figure(per_item: dict[str, list[dict[str, Any]]]) -> Any:
    """Score vs duration, one series per task (None when there is nothing to plot). Scores
    are on the benchmark's 0-100 scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Per-item scores count an unanswered item as wrong; NaN (nothing to score) is left out.
    series = {t: sorted((p["duration"] / 60, p["score"]) for p in ps
                        if p["duration"] is not None and p["score"] == p["score"])
              for t, ps in per_item.items()}
    series = {t: s for t, s in series.items() if s}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for task, pts in series.items():
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=task)
    ax.set_xlabel("audio duration (minutes)")
    ax.set_ylabel("score (0-100: F1 or accuracy)")
    ax.set_ylim(-5, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def _plot(per_item: dict[str, list[dict[str, Any]]]) -> str:
    """score_figure as a base64 PNG (empty when there is nothing to plot)."""
    import matplotlib.pyplot as plt

    fig = score_figure(per_item)
    if fig is None:
        return ""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def _metrics(scores: dict[str, Any]) -> str:
    return ", ".join(f"{html.escape(str(k))}={_cell(v)}" for k, v in scores.items()
                     if isinstance(v, (int, float)))


def render_blab_report(results: Any) -> str:
    rows = []
    for task, s in results.scores.items():
        rows.append(f"<tr><td>{html.escape(task)}</td><td>{s['answered']}/{s['items']}</td>"
                    f"<td>{_metrics(s['official'])}</td><td>{_metrics(s['all_items'])}</td></tr>")
    failed = "".join(f"<li>{html.escape(a)}: {html.escape(e)}</li>"
                     for a, e in results.failed.items())
    png = _plot(results.per_item)
    img = (f'<img alt="score vs duration" src="data:image/png;base64,{png}">' if png
           else "<p>No durations to plot.</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BLAB results: {html.escape(results.system)}</title>
<style>body{{font:15px system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.35em .8em;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>BLAB results: system <code>{html.escape(results.system)}</code></h1>
<p>Two scores per task. <b>Official</b>: the benchmark's compute_task_metrics.py, whose inner
join drops every item without a prediction. <b>All items</b>: every item counted, an unanswered
one as a wrong answer, as the paper counts; compare this one with published numbers.</p>
<table><tr><th>task</th><th>answered</th><th>official (answered items)</th>
<th>all items (unanswered = wrong)</th></tr>{''.join(rows)}</table>
<h2>Score vs audio duration</h2>{img}
{f'<h2>Recordings that failed</h2><ul>{failed}</ul>' if failed else ''}
</body></html>
"""


def write_blab_report(results: Any, path: str | Path) -> Path:
    p = Path(path)
    atomic_write_text(p, render_blab_report(results))
    return p
