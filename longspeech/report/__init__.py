"""HTML transcript report: summary figures, speaker timeline, searchable transcript with
click-to-seek audio and highlighted LLM corrections; plus a static talk-time chart (PNG)."""

from .chart import talk_time_chart
from .corrections import Correction, load_report_input, parse_corrections
from .html import render_report, write_report
from .layout import Lane, Line, TurnGroup
from .stats import ReportSummary, SpeakerStats, summarize

__all__ = [
    "Correction",
    "Lane",
    "Line",
    "ReportSummary",
    "SpeakerStats",
    "TurnGroup",
    "load_report_input",
    "parse_corrections",
    "render_report",
    "summarize",
    "talk_time_chart",
    "write_report",
]
