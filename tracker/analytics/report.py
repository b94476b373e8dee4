"""``track report RUN_DIR``: one HTML page a person opens in a browser, offline.

``RUN_DIR/report.html`` holds the run's summary, its annotated video in a ``<video>`` player, the
plots (PNG, embedded as data URIs), the counts (totals and per time bin), the slowest frames and the
first events. Nothing is loaded from the network. The video sits *beside* the page (a relative
link, so the run folder is what you copy), or inside it with ``--embed-video`` (one file, bigger).

Browsers play H.264 MP4; OpenCV's ``mp4v`` (the video sink's codec until it writes H.264) does not
play in Chromium, so a run whose video is not H.264 gets an H.264 copy, ``report_video.mp4``,
written with PyAV (libx264, yuv420p, even frame size).
"""
from __future__ import annotations

import base64
import csv
import html
import json
import os
from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import UserError

REPORT_VIDEO = "report_video.mp4"
EVENTS_SHOWN = 200


def video_codec(path: Path) -> Optional[str]:
    """The codec name of the first video stream (``h264``, ``mpeg4``, ...), None if unreadable."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            return container.streams.video[0].codec_context.name
    except (av.error.FFmpegError, OSError):
        return None


def to_h264(src: Path, dst: Path) -> Path:
    """Re-encode ``src`` as browser-playable H.264 MP4 (yuv420p needs an even width and height)."""
    import av

    tmp = dst.with_name(dst.stem + ".part.mp4")
    try:   # a source that cannot be decoded leaves no half-written copy behind
        with av.open(str(src)) as inp:
            in_stream = inp.streams.video[0]
            rate = in_stream.average_rate or in_stream.guessed_rate or 30
            with av.open(str(tmp), "w", options={"movflags": "+faststart"}) as out:
                stream = out.add_stream("libx264", rate=rate)
                stream.pix_fmt = "yuv420p"
                stream.options = {"preset": "veryfast", "crf": "23"}
                size = None
                for frame in inp.decode(in_stream):
                    image = frame.to_ndarray(format="rgb24")
                    if size is None:
                        size = (image.shape[1] // 2 * 2, image.shape[0] // 2 * 2)
                        stream.width, stream.height = size
                    image = image[: size[1], : size[0]]
                    out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
                out.mux(stream.encode(None))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
    return dst


def find_video(run_dir: Path, summary: dict) -> Optional[Path]:
    """The run's annotated video: the one in ``run_dir`` first (a copied or moved run folder links its
    own copy), then the path the summary recorded, then any video in the folder."""
    named = (summary.get("outputs") or {}).get("video")
    candidates = []
    if named:
        candidates += [run_dir / Path(named).name, Path(named)]
    candidates += [p for p in sorted(run_dir.glob("*.mp4")) + sorted(run_dir.glob("*.avi"))
                   if p.name != REPORT_VIDEO and not p.name.endswith(".part.mp4")]
    for path in candidates:
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None


def playable_video(run_dir: Path, summary: dict) -> Tuple[Optional[Path], str]:
    """The run's video if it is H.264, else an H.264 copy beside it (made once, reused); or None and
    why not (no video, or one that cannot be read: e.g. OpenCV's mp4v of a killed run has no index)."""
    import av

    video = find_video(run_dir, summary)
    if video is None:
        return None, "This run has no video (it was made with <code>--no-video</code>)."
    codec = video_codec(video)
    if codec == "h264":
        return video, ""
    unreadable = f"The run's video <code>{html.escape(video.name)}</code> cannot be read (it was not finalised)."
    if codec is None:
        return None, unreadable
    copy = run_dir / REPORT_VIDEO
    if copy.is_file() and copy.stat().st_mtime >= video.stat().st_mtime and video_codec(copy) == "h264":
        return copy, ""
    try:
        return to_h264(video, copy), ""
    except av.error.FFmpegError:
        return None, unreadable


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _table(header: List[str], rows: List[list], cls: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _counts_per_bin(run_dir: Path) -> str:
    path = run_dir / "counts.csv"
    if not path.is_file():
        return "<p>No counts.csv (no lines or zones in this run).</p>"
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("class_name") == "all"]
    if not rows:
        return "<p>No time bins yet.</p>"
    columns = sorted({(r["name"], r["direction"]) for r in rows}, key=lambda c: (c[0], c[1]))
    bins = {}
    for r in rows:
        bins.setdefault((float(r["bin_start_s"]), float(r["bin_end_s"])), {})[(r["name"], r["direction"])] = r["count"]
    table_rows = [[f"{a:.0f}–{b:.0f} s"] + [cells.get(c, "0") for c in columns] for (a, b), cells in sorted(bins.items())]
    return _table(["time bin"] + [f"{n} {d}" for n, d in columns], table_rows, "num")


def _totals(analytics: dict) -> str:
    rows = []
    for name, line in analytics.get("lines", {}).items():
        rows.append([name, "line", "all", line["in"], line["out"], "", "", ""])
        for cls, c in line.get("per_class", {}).items():
            rows.append([name, "line", cls, c["in"], c["out"], "", "", ""])
    for name, zone in analytics.get("zones", {}).items():
        rows.append([name, "zone", "all", zone["enter"], zone["exit"], zone["max_occupancy"], zone["mean_dwell_s"],
                     zone["max_dwell_s"]])
    if not rows:
        return "<p>No lines or zones in this run: add <code>--line NAME=x1,y1,x2,y2</code> or " \
               "<code>--zone ...</code>, or count afterwards with <code>track analyze</code>.</p>"
    return _table(["name", "kind", "class", "in / enter", "out / exit", "max occupancy", "mean dwell (s)",
                   "max dwell (s)"], rows, "num")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c0d0}
main{max-width:1180px;margin:0 auto;padding:18px 28px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:14px 20px;margin:16px 0}
h2{font-size:17px;margin:4px 0 12px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.fact{background:#f4f5f7;border-radius:6px;padding:8px 12px}.fact b{display:block;font-size:20px}.fact span{color:#5b6475;font-size:12px}
video{width:100%;max-height:640px;background:#000;border-radius:6px}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:14px}.plots figure{margin:0}.plots img{width:100%;border:1px solid #e3e6eb;border-radius:6px}
figcaption{font-size:12px;color:#5b6475}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #e3e6eb;text-align:left}
th{background:#f4f5f7}table.num td:not(:first-child){font-variant-numeric:tabular-nums}
.scroll{max-height:360px;overflow:auto}.warn{background:#fff4d6;border-left:4px solid #e0a100;padding:8px 12px}code{background:#eef0f3;padding:1px 4px;border-radius:3px}
@media(max-width:800px){.plots{grid-template-columns:1fr}}
"""


def write_report(run_dir: Path, embed_video: bool = False) -> Path:
    """Write ``run_dir/report.html`` (plots into ``run_dir/plots``); returns its path."""
    from .analyze import unfinished_summary
    from .plots import make_plots, read_events

    run_dir = Path(run_dir)
    if (run_dir / "summary.json").is_file():
        try:
            summary = json.loads((run_dir / "summary.json").read_text())
        except ValueError:
            raise UserError(f"{run_dir / 'summary.json'} is not valid JSON") from None
    elif any((run_dir / name).is_file() for name in ("tracks.csv", "tracks.txt")):
        summary = unfinished_summary(run_dir)   # killed (or still running): what its logs hold
    else:
        subs = sorted(d.name for d in run_dir.glob("*/") if any((d / n).is_file() for n in ("summary.json", "tracks.csv")))
        if subs:   # a run of several sources that did not finish: each has its own folder
            raise UserError(f"{run_dir} holds several sources ({', '.join(subs)}): run 'track report' on one of "
                            "its sub-folders")
        raise UserError(f"{run_dir} is not a run folder (no summary.json, tracks.csv or tracks.txt)")
    if "sources" in summary and "frames" not in summary:
        names = ", ".join(sorted(summary["sources"]))
        raise UserError(f"{run_dir} holds several sources ({names}): run 'track report' on one of its sub-folders")
    analytics = summary.get("analytics", {})
    e = html.escape

    plots = make_plots(run_dir, summary=summary)
    captions = {"trajectories": "Trajectories over a frame of the video (lines and zones with their totals)",
                "heatmap": "Occupancy heatmap: where tracks were, summed over frames",
                "timeline": "Track timeline: one bar per id, first to last sight",
                "counts": "Counts over time"}
    figures = "".join(f'<figure><img alt="{e(name)}" src="{_data_uri(path, "image/png")}">'
                      f"<figcaption>{e(captions[name])}</figcaption></figure>" for name, path in plots.items())

    video, why_not = playable_video(run_dir, summary)
    if video is None:
        video_html = f"<p>{why_not}</p>"
    else:
        src = _data_uri(video, "video/mp4") if embed_video else \
            "/".join(Path(os.path.relpath(video.resolve(), run_dir.resolve())).parts)
        note = "embedded in this page" if embed_video else f"file <code>{e(src)}</code> beside this page"
        video_html = (f'<video id="video" controls muted preload="auto" playsinline src="{e(src, quote=True)}">'
                      f"</video><p>Annotated video ({note}).</p>")

    facts = [("frames", summary.get("frames", "–")), ("unique tracks", summary.get("unique_tracks", "–")),
             ("source fps", summary.get("source_fps", "–")), ("processing fps", summary.get("processing_fps", "–")),
             ("run time (s)", summary.get("run_time_s", "–"))]
    for name, line in analytics.get("lines", {}).items():
        facts.append((f"line {name}: in / out", f"{line['in']} / {line['out']}"))
    for name, zone in analytics.get("zones", {}).items():
        facts.append((f"zone {name}: entered", zone["enter"]))
    facts_html = "".join(f'<div class="fact"><b>{e(str(v))}</b><span>{e(k)}</span></div>' for k, v in facts)

    fps = float(summary.get("source_fps") or 0) or None
    slow = analytics.get("slowest_frames") or []
    slow_html = _table(["frame", "time in video (s)", "wait before frame (ms)", "tracks"],
                       [[s["frame"], f"{(s['frame'] - 1) / fps:.2f}" if fps else "–", s["ms"], s["tracks"]]
                        for s in slow], "num") if slow else "<p>No per-frame timing in this run.</p>"
    timing = summary.get("timing_s") or {}
    if timing:
        slow_html += "<p>Time per stage over the run (s): " + e(", ".join(f"{k} {v}" for k, v in timing.items())) + "</p>"

    events = read_events(run_dir)
    events_html = _table(["frame", "time (s)", "event", "name", "direction", "track", "class", "dwell (s)"],
                         [[ev.get("frame"), ev.get("time_s"), ev.get("event"), ev.get("name"), ev.get("direction", ""),
                           ev.get("track_id"), ev.get("class_name"), ev.get("dwell_s", "")]
                          for ev in events[:EVENTS_SHOWN]], "num") if events else "<p>No events.</p>"
    if len(events) > EVENTS_SHOWN:
        events_html += f"<p>First {EVENTS_SHOWN} of {len(events)} events; all are in <code>events.jsonl</code>.</p>"

    unfinished_html = ('<p class="warn">This run did not finish: it has no <code>summary.json</code> (it was '
                       "killed, or is still running). What follows comes from its logs up to the last frame "
                       "written; the totals are recounted from its tracks with its lines and zones.</p>"
                       if summary.get("status") == "unfinished" else "")
    source = summary.get("source", str(run_dir))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>Tracking report: {e(Path(str(source)).name)}</title><style>{CSS}</style></head>
<body><header><h1>Tracking report</h1><p>{e(str(source))} &middot; {e(str(run_dir))}</p></header><main>
<section><h2>Summary</h2>{unfinished_html}<div class="facts">{facts_html}</div></section>
<section><h2>Video</h2>{video_html}</section>
<section><h2>Counts</h2>{_totals(analytics)}<h2 style="margin-top:18px">Per time bin</h2>
<div class="scroll">{_counts_per_bin(run_dir)}</div></section>
<section><h2>Plots</h2><div class="plots">{figures}</div></section>
<section><h2>Slowest frames</h2>{slow_html}</section>
<section><h2>Events</h2><div class="scroll">{events_html}</div></section>
</main></body></html>
"""
    out = run_dir / "report.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
