"""End to end: `track --line/--zone` on the bundled sample video, `track analyze` on its tracks,
`track report` opened in a real (headless) Chromium."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, SAMPLE_DETS, SAMPLE_VIDEO, assert_one_line_error, run_track
from tracker.analytics import Counter, CountingRules, parse_line
from tracker.formats.mot import read_mot_results

# lines beside the pillar in the middle (figures hidden behind it for up to 3.5 s swap ids, which no
# counting rule can see through), a partial one and a full-height one
LINES = ["left=0.25,0.1,0.25,0.95", "right=0.8,0,0.8,1"]
ZONE = "east=0.6,0,1,0,1,1,0.6,1"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def live_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analytics") / "run"
    args = [SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--out", out, "--quiet", "--count-bin", "4s", "--zone", ZONE]
    for line in LINES:
        args += ["--line", line]
    proc = run_track(*args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def events_of(folder: Path) -> list:
    return [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]


def true_crossings(width: int = 640, height: int = 360) -> dict:
    """Crossings of the sample video's ground-truth figures, by the same rules (their boxes are exact)."""
    gt = read_mot_results(REPO / "sample_videos" / "crossing_gt.txt")
    counter = Counter([parse_line(s).scaled(width, height) for s in LINES], [], CountingRules(relink_s=0))
    counts: dict = {}
    for f in range(1, int(gt[:, 0].max()) + 1):
        rows = gt[gt[:, 0] == f]
        xyxy = np.column_stack([rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]])
        for e in counter.update(f, (f - 1) / 25, rows[:, 1].astype(int), xyxy, ["person"] * len(rows)):
            counts[e["name"], e["direction"]] = counts.get((e["name"], e["direction"]), 0) + 1
    return counts


def test_live_counts_match_the_ground_truth_crossings(live_run):
    summary = json.loads((live_run / "summary.json").read_text())["analytics"]
    truth = true_crossings()
    assert sum(truth.values()) >= 4   # the scene really has crossings to count
    # exact today; one crossing of slack so a retuned default tracker does not break the test
    error = sum(abs(summary["lines"][name][d] - truth.get((name, d), 0)) for name in ("left", "right")
                for d in ("in", "out"))
    assert error <= 1, (summary["lines"], truth)
    # a counting run keeps the tracker's own settings by default (analytics.report_lost_frames: 0), and says so
    assert summary["tracker_params"] == {}
    events = events_of(live_run)
    kinds = {e["event"] for e in events}
    assert kinds == {"line_cross", "zone_enter", "zone_exit"}
    for e in events:
        assert {"event", "name", "track_id", "class_name", "frame", "time_s"} <= set(e)
        assert e["event"] != "line_cross" or e["direction"] in ("in", "out")
        assert e["event"] != "zone_exit" or e["dwell_s"] >= 0
    zone = summary["zones"]["east"]
    assert zone["enter"] >= 1 and zone["max_occupancy"] >= 1
    counts = (live_run / "counts.csv").read_text().splitlines()
    right_in = [r.split(",") for r in counts[1:] if r.split(",")[2:6] == ["right", "line", "in", "all"]]
    assert len(right_in) == 3 and sum(int(r[6]) for r in right_in) == summary["lines"]["right"]["in"]   # 10 s, 4 s bins


def test_analyze_on_the_runs_tracks_equals_the_live_events(live_run, tmp_path):
    args = ["analyze", live_run, "--out", tmp_path / "a", "--count-bin", "4s", "--zone", ZONE]
    for line in LINES:
        args += ["--line", line]
    proc = run_track(*args, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert events_of(tmp_path / "a") == events_of(live_run)
    for name in ("counts.csv", "occupancy.csv"):
        assert (tmp_path / "a" / name).read_text() == (live_run / name).read_text(), name
    # the MOT txt alone (no classes, no times) gives the same crossings
    proc = run_track("analyze", live_run / "tracks.txt", "--fps", 25, "--size", "640x360", "--out", tmp_path / "b",
                     *sum((["--line", x] for x in LINES), []), timeout=120)
    assert proc.returncode == 0, proc.stderr
    crossing = lambda evs: [(e["name"], e["direction"], e["track_id"], e["frame"]) for e in evs
                            if e["event"] == "line_cross"]
    assert crossing(events_of(tmp_path / "b")) == crossing(events_of(live_run))
    # a moved line recounts without tracking again, from a CSV with an extra column
    rows = (live_run / "tracks.csv").read_text().splitlines()
    (tmp_path / "extra.csv").write_text("\n".join([rows[0] + ",observed"] + [r + ",1" for r in rows[1:]]) + "\n")
    proc = run_track("analyze", tmp_path / "extra.csv", "--size", "640x360", "--line", "other=0.4,0,0.4,1",
                     "--out", tmp_path / "c", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "other: in" in proc.stdout


def test_bad_analytics_input_is_one_line_error(live_run, tmp_path):
    assert_one_line_error(run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--line", "bad=1,2,3",
                                    "--out", tmp_path / "x"), "line", "bad")
    assert not (tmp_path / "x").exists()   # fails before anything is written
    assert_one_line_error(run_track("analyze", live_run, "--out", tmp_path / "y"), "line")
    assert_one_line_error(run_track("analyze", tmp_path / "missing.csv", "--line", "a=0,0,1,1"), "not found")
    (tmp_path / "junk.csv").write_text("a,b\n1,2\n")
    assert_one_line_error(run_track("analyze", tmp_path / "junk.csv", "--line", "a=0,0,9,9"), "column")
    assert_one_line_error(run_track("report", tmp_path), "summary.json")
    # recounting into the run's own folder would replace its summary.json and events.jsonl
    before = {name: (live_run / name).read_bytes() for name in ("summary.json", "events.jsonl")}
    assert_one_line_error(run_track("analyze", live_run, "--line", "a=0,0,1,1", "--out", live_run), "overwrite")
    assert {name: (live_run / name).read_bytes() for name in before} == before


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian chromium is not installed (make test installs it: tools/install_test_deps.sh)")
def test_report_plays_in_chromium(live_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(live_run, run_dir)
    proc = run_track("report", run_dir, timeout=300)
    assert proc.returncode == 0, proc.stderr
    page_path = run_dir / "report.html"
    text = page_path.read_text()
    assert "http://" not in text and "https://" not in text   # nothing from the network
    # the page links an H.264 video beside it: the run's own when the video sink wrote H.264 (PyAV),
    # else an H.264 copy (OpenCV's mp4v does not play in Chromium)
    import re

    from tracker.analytics.report import video_codec

    linked = re.search(r'<video[^>]*\bsrc="([^"]+)"', text)
    assert linked and "/" not in linked.group(1), "the video is linked beside the page"
    assert video_codec(run_dir / linked.group(1)) == "h264"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=30000)
        page.evaluate("document.getElementById('video').play()")
        page.wait_for_function("document.getElementById('video').currentTime > 0.3", timeout=30000)
        video = page.evaluate("(() => { const v = document.getElementById('video');"
                              " return {duration: v.duration, error: v.error && v.error.code}; })()")
        images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        browser.close()
    assert video["error"] is None and video["duration"] == pytest.approx(10.0, abs=0.2)
    assert sorted(i[0] for i in images) == ["counts", "heatmap", "timeline", "trajectories"]
    assert all(complete and width > 0 for _, complete, width in images), images
    assert errors == []
    # --embed-video: one file, the video inside the page
    proc = run_track("report", run_dir, "--embed-video", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'src="data:video/mp4;base64,' in page_path.read_text()


def test_report_of_a_killed_run_comes_from_its_logs(live_run, tmp_path):
    """A run killed before its end has no summary.json: the page says so, and its totals are recounted
    from its tracks with its config's lines and zones (equal to the live run's)."""
    from tracker.analytics.report import video_codec

    run_dir = tmp_path / "killed"
    shutil.copytree(live_run, run_dir)
    live = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").unlink()
    video = next(run_dir.glob("*.mp4"))
    video.write_bytes(video.read_bytes()[: video.stat().st_size * 2 // 3])   # cut off mid-write
    proc = run_track("report", run_dir, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = (run_dir / "report.html").read_text()
    assert "This run did not finish" in text
    for name, line in live["analytics"]["lines"].items():
        assert f"<b>{line['in']} / {line['out']}</b><span>line {name}: in / out</span>" in text
    for name, zone in live["analytics"]["zones"].items():
        assert f"<b>{zone['enter']}</b><span>zone {name}: entered</span>" in text
    assert f'src="{video.name}"' in text and video_codec(video) == "h264"   # fragmented: it still plays
    assert not (run_dir / "summary.json").exists()   # the run's files are left as they were
    # a killed run of several sources: its folder has one sub-folder per source
    assert_one_line_error(run_track("report", tmp_path), "sub-folders", "killed")
    # a video that cannot be read at all is said, not a traceback
    video.write_bytes(b"\0" * 1000)
    proc = run_track("report", run_dir, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "cannot be read" in (run_dir / "report.html").read_text()


def test_report_of_an_mp4v_run_links_an_h264_copy(tmp_path):
    """Old runs (and --video-codec mp4v) have a video Chromium refuses: the report writes a copy."""
    from tracker.analytics.report import video_codec

    run_dir = tmp_path / "run"
    proc = run_track(SAMPLE_VIDEO, "--detections", SAMPLE_DETS, "--video-codec", "mp4v", "--max-frames", "30",
                     "--out", run_dir, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert video_codec(next(run_dir.glob("*.mp4"))) == "mpeg4"
    proc = run_track("report", run_dir, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'src="report_video.mp4"' in (run_dir / "report.html").read_text()
    assert video_codec(run_dir / "report_video.mp4") == "h264"
