"""Analytics on tracks: counting lines, zones (enter/exit, dwell, occupancy), plots and the HTML report.

    geometry.py  lines, zones, anchors (parsing ``NAME=x1,y1,...``)
    counting.py  the counting rules: tracks per frame -> events
    sink.py      the run-folder sink: events.jsonl, counts.csv, occupancy.csv, totals for summary.json
    overlay.py   lines, zones and counters drawn on the annotated video
    analyze.py   ``track analyze``: the same analytics from an existing tracks file
    plots.py     matplotlib PNGs (trajectories, heatmap, timeline, counts)
    report.py    ``track report``: one self-contained report.html

Example:
    >>> from tracker.analytics import AnalyticsSetup
    >>> setup = AnalyticsSetup.from_config({"lines": ["door=0.5,0,0.5,1"], "count_bin": "5m"})
    >>> [line.name for line in setup.lines], setup.count_bin_s
    (['door'], 300.0)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping

from ..config import AnalyticsConfig
from ..errors import UserError
from .counting import Counter, CountingRules
from .geometry import ANCHORS, Line, Zone, all_names, parse_line, parse_specs, parse_zone
from .sink import AnalyticsSink, parse_duration


@dataclass
class AnalyticsSetup:
    """Parsed ``analytics:`` config: lines, zones, rules, bin width (checked before a run starts)."""

    lines: List[Line] = field(default_factory=list)
    zones: List[Zone] = field(default_factory=list)
    rules: CountingRules = field(default_factory=CountingRules)
    count_bin_s: float = 60.0
    report_lost_frames: int = 0   # the tracker reports lost tracks at least this long (0 = its own setting)

    @classmethod
    def from_config(cls, section) -> "AnalyticsSetup":
        """From ``cfg.analytics`` (a dataclass) or a plain mapping of the same keys."""
        values = dataclasses.asdict(section) if dataclasses.is_dataclass(section) else dict(section)
        rule_keys = {f.name for f in dataclasses.fields(CountingRules)}
        rules = CountingRules(**{k: v for k, v in values.items() if k in rule_keys})
        if rules.anchor not in ANCHORS:
            raise UserError(f"analytics.anchor must be one of {', '.join(ANCHORS)}, got {rules.anchor!r}")
        setup = cls(parse_specs(values.get("lines"), parse_line), parse_specs(values.get("zones"), parse_zone),
                    rules, parse_duration(values.get("count_bin", "60s")),
                    int(values.get("report_lost_frames", AnalyticsConfig.report_lost_frames) or 0))
        all_names(setup.lines, setup.zones)
        return setup

    def tracker_params(self, tracker: str, params: Mapping[str, Any]) -> Dict[str, Any]:
        """The tracker parameters of a run with these lines/zones: ``params`` (the user's, they win) plus
        ``report_lost_frames`` raised to ours (when set: 0 by default) for trackers that have the key.
        Lost tracks reported at their predicted box for 1.5 s (45) carry people hidden while crossing over
        the line, and as many tracks of people who left: in tools/bench_counting.py that helps where the
        detector misses many (MOT17's FRCNN boxes) and hurts where it misses few (the ``strong`` variants),
        so it is off."""
        params = dict(params)
        if not (self.lines or self.zones) or self.report_lost_frames <= 0 or "report_lost_frames" in params:
            return params
        from ..trackers.registry import load_tracker_config

        _, config = load_tracker_config(tracker, params)
        own = getattr(config, "report_lost_frames", None)
        if own is not None and own < self.report_lost_frames:
            params["report_lost_frames"] = self.report_lost_frames
        return params

    def sink(self, out_dir, names, frame_size=None) -> AnalyticsSink:
        return AnalyticsSink(out_dir, self.lines, self.zones, names, self.rules, self.count_bin_s, frame_size)


__all__ = ["AnalyticsSetup", "AnalyticsSink", "Counter", "CountingRules", "Line", "Zone", "parse_line",
           "parse_zone", "parse_duration"]
