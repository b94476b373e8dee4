"""Plots of a run (matplotlib, PNG): trajectories over a frame, an occupancy heatmap, a track
timeline and counts over time.

Example:
    >>> paths = make_plots(Path("runs/track/exp"))          # doctest: +SKIP
    >>> sorted(paths)                                         # doctest: +SKIP
    ['counts', 'heatmap', 'timeline', 'trajectories']
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .geometry import anchor_points

MAX_TIMELINE_IDS = 150   # more bars than this are unreadable: the longest-lived ids are shown


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")   # files only, no display
    import matplotlib.pyplot as plt

    return plt


def id_color(track_id: int) -> Tuple[float, float, float]:
    """The colour the annotated video gives an id (golden-ratio hue steps), as matplotlib RGB."""
    import colorsys

    return colorsys.hsv_to_rgb((track_id * 0.618033988749895) % 1.0, 0.86, 1.0)


def background(run_dir: Path, size: Optional[Tuple[int, int]]) -> np.ndarray:
    """An RGB frame of the run: frame.jpg (clean), else the first frame of its video, else grey."""
    image = cv2.imread(str(run_dir / "frame.jpg")) if (run_dir / "frame.jpg").is_file() else None
    if image is None:
        for video in sorted(run_dir.glob("*.mp4")) + sorted(run_dir.glob("*.avi")):
            cap = cv2.VideoCapture(str(video))
            ok, image = cap.read()
            cap.release()
            if ok:
                break
            image = None
    if image is None:
        w, h = size or (1280, 720)
        return np.full((h, w, 3), 200, np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_events(run_dir: Path) -> List[dict]:
    path = run_dir / "events.jsonl"
    if not path.is_file():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue   # a line being written when the run was killed
    return events


def _draw_geometry(ax, analytics: dict) -> None:
    for name, line in analytics.get("lines", {}).items():
        (x1, y1), (x2, y2) = line["points"]
        ax.plot([x1, x2], [y1, y2], color="#ffb000", lw=2.5)
        ax.annotate(f"{name}  in {line['in']} / out {line['out']}", (x2, y2), color="black", fontsize=9,
                    bbox=dict(boxstyle="round", fc="#ffb000", ec="none", alpha=0.9))
    for name, zone in analytics.get("zones", {}).items():
        pts = np.array(zone["points"])
        ax.fill(pts[:, 0], pts[:, 1], color="#00a0ff", alpha=0.15)
        ax.plot(np.r_[pts[:, 0], pts[0, 0]], np.r_[pts[:, 1], pts[0, 1]], color="#00a0ff", lw=2)
        ax.annotate(f"{name}  entered {zone['enter']}", tuple(pts[np.argmin(pts[:, 1])]), color="black",
                    fontsize=9, bbox=dict(boxstyle="round", fc="#00a0ff", ec="none", alpha=0.9))


def make_plots(run_dir: Path, out_dir: Optional[Path] = None, summary: Optional[dict] = None) -> Dict[str, Path]:
    """Write the four PNGs into ``out_dir`` (default ``run_dir/plots``); returns name -> path.
    ``summary``: the run's summary (default: its summary.json), for the lines and zones drawn."""
    from .analyze import load_tracks

    plt = _pyplot()
    run_dir = Path(run_dir)
    out_dir = Path(out_dir or run_dir / "plots")
    out_dir.mkdir(parents=True, exist_ok=True)
    frames, meta = load_tracks(run_dir)
    if summary is None:
        summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    analytics = summary.get("analytics", {})
    bg = background(run_dir, meta.get("frame_size"))
    h, w = bg.shape[:2]
    anchor = (analytics.get("rules") or {}).get("anchor", "bottom_center")

    # id -> (N, 3) time, x, y of its anchor, in time order (arrays: a long run has millions of rows)
    times, ids, xyxy = frames.rows()
    points = anchor_points(xyxy, anchor)
    by_id = np.argsort(ids, kind="stable")
    cut = np.flatnonzero(np.diff(ids[by_id])) + 1
    paths: Dict[int, np.ndarray] = {int(ids[g[0]]): np.column_stack([times[g], points[g]])
                                    for g in np.split(by_id, cut) if len(g)}
    out: Dict[str, Path] = {}
    figsize = (10, 10 * h / w + 0.6)

    # trajectories over a frame
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    ax.imshow(bg)
    for tid, arr in paths.items():
        ax.plot(arr[:, 1], arr[:, 2], color=id_color(tid), lw=1.2, alpha=0.9)
    _draw_geometry(ax, analytics)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    ax.set_title(f"Trajectories ({anchor.replace('_', ' ')} of each box), {len(paths)} tracks")
    out["trajectories"] = _save(fig, out_dir / "trajectories.png", plt)

    # occupancy heatmap: where anchors were, summed over frames
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    ax.imshow(bg, alpha=0.55)
    bins = (max(w // 16, 1), max(h // 16, 1))
    hist, xe, ye = np.histogram2d(points[:, 0], points[:, 1], bins=bins, range=[[0, w], [0, h]])
    hist = cv2.GaussianBlur(hist.T.astype(np.float32), (0, 0), 1.5)
    masked = np.ma.masked_where(hist <= hist.max() * 0.04 if hist.max() > 0 else hist >= 0, hist)
    im = ax.imshow(masked, extent=(0, w, h, 0), cmap="YlOrRd", alpha=0.75, interpolation="bilinear")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="track-frames per cell (smoothed)")
    _draw_geometry(ax, analytics)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    ax.set_title("Occupancy heatmap")
    out["heatmap"] = _save(fig, out_dir / "heatmap.png", plt)

    # timeline: one bar per id from first to last sight
    spans = sorted(((float(pts[0, 0]), float(pts[-1, 0]), tid) for tid, pts in paths.items()), key=lambda s: s[0])
    shown = spans
    if len(spans) > MAX_TIMELINE_IDS:
        shown = sorted(sorted(spans, key=lambda s: s[1] - s[0], reverse=True)[:MAX_TIMELINE_IDS])
    fig, ax = plt.subplots(figsize=(10, max(3.0, min(0.09 * len(shown) + 1.5, 16))), dpi=100)
    for row, (start, end, tid) in enumerate(shown):
        ax.broken_barh([(start, max(end - start, 0.05))], (row - 0.4, 0.8), color=id_color(tid))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("track (by first appearance)")
    ax.set_ylim(-1, max(len(shown), 1))
    ax.set_title("Track timeline" + (f" ({MAX_TIMELINE_IDS} longest of {len(spans)} tracks)"
                                     if len(shown) < len(spans) else f" ({len(spans)} tracks)"))
    ax.grid(axis="x", alpha=0.3)
    out["timeline"] = _save(fig, out_dir / "timeline.png", plt)

    # counts over time: cumulative crossings / entries; without lines or zones, objects per frame
    events = read_events(run_dir)
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    series: Dict[str, List[float]] = {}
    for e in events:
        if e.get("event") in ("line_cross", "zone_enter"):
            label = f"{e['name']} {e.get('direction', 'enter')}"
            series.setdefault(label, []).append(float(e["time_s"]))
    end_time = frames[-1][1] if frames else 1.0
    if series:
        for label, times in sorted(series.items()):
            times = sorted(times)
            ax.step([0.0] + times + [end_time], [0] + list(range(1, len(times) + 1)) + [len(times)],
                    where="post", label=label, lw=2)
        ax.set_ylabel("cumulative count")
        ax.legend(loc="upper left", fontsize=9)
        ax.set_title("Counts over time")
    else:
        ax.plot(frames.times, frames.counts(), lw=1.2)
        ax.set_ylabel("tracks in frame")
        ax.set_title("Objects over time (no lines or zones in this run)")
    ax.set_xlabel("time (s)")
    ax.set_xlim(0, max(end_time, 1e-3))
    ax.grid(alpha=0.3)
    out["counts"] = _save(fig, out_dir / "counts.png", plt)
    return out


def _save(fig, path: Path, plt) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
