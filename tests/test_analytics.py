"""Counting lines and zones on synthetic trajectories, the analytics sink's files, and `track analyze`."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tracker.analytics import AnalyticsSetup, Counter, CountingRules, parse_line, parse_zone
from tracker.analytics.sink import AnalyticsSink, parse_duration
from tracker.errors import UserError
from tracker.types import Frame, Tracks

FPS = 10.0
LINE = parse_line("door=0,100,400,100")   # horizontal, drawn left to right: "in" = downwards


def box_at(x: float, y: float, h: float = 40.0) -> list:
    """A box whose bottom centre (the default anchor) is (x, y)."""
    return [x - 10, y - h, x + 10, y]


def run(counter: Counter, paths: dict, n_frames: int) -> list:
    """``paths``: track id -> {frame: (x, y) or (x, y, box height)}; returns every event."""
    events = []
    for f in range(1, n_frames + 1):
        ids = [tid for tid, p in paths.items() if f in p]
        xyxy = np.array([box_at(*paths[tid][f]) for tid in ids]).reshape(-1, 4)  # (x, y[, h])
        events += counter.update(f, (f - 1) / FPS, np.array(ids, np.int64), xyxy, ["person"] * len(ids))
    return events + counter.finish()


def crossings(events):
    return [(e["track_id"], e["direction"]) for e in events if e["event"] == "line_cross"]


def straight(y0: float, y1: float, frames: range, x: float = 200.0) -> dict:
    ys = np.linspace(y0, y1, len(frames))
    return {f: (x, float(y)) for f, y in zip(frames, ys)}


def test_a_walk_across_counts_once_in_its_direction():
    down = straight(40, 160, range(1, 31))
    up = straight(160, 40, range(1, 31), x=300)
    events = run(Counter([LINE], []), {1: down, 2: up}, 30)
    assert sorted(crossings(events)) == [(1, "in"), (2, "out")]
    e = next(e for e in events if e["track_id"] == 1)
    assert set(e) >= {"event", "name", "direction", "track_id", "class_name", "frame", "time_s"}
    assert e["name"] == "door" and e["class_name"] == "person" and e["time_s"] == (e["frame"] - 1) / FPS


def test_jitter_on_the_line_is_not_a_crossing():
    rng = np.random.default_rng(0)
    # 60 frames standing on the line, the anchor jumping +-0.7 px (box height 40: 1.75 %; the margin is 2 %; our
    # tracker's anchors jitter by 0.2-0.5 % of the box height per frame on MOT17, 1-4 % at the 90th-99th
    # percentile), then a big jitter with a wider margin
    path = {f: (200.0, 100.0 + float(rng.uniform(-0.7, 0.7))) for f in range(1, 61)}
    assert crossings(run(Counter([LINE], []), {1: path}, 60)) == []
    wide = {f: (200.0, 100.0 + float(rng.uniform(-3, 3))) for f in range(1, 61)}
    assert crossings(run(Counter([LINE], [], CountingRules(margin=0.1)), {1: wide}, 60)) == []
    # the rule every peer uses (a step from one side to the other) counts this one many times
    ys = np.array([p[1] for p in path.values()]) - 100
    assert np.count_nonzero(np.diff(np.sign(ys)) != 0) > 10


def test_a_step_across_the_line_between_frames_counts():
    # a fast object: 60 px above the line, then 60 px below, never on it
    path = {1: (200.0, 40.0), 2: (200.0, 40.0), 3: (200.0, 40.0), 4: (200.0, 160.0), 5: (200.0, 160.0)}
    events = run(Counter([LINE], []), {1: path}, 5)
    assert crossings(events) == [(1, "in")]
    assert events[0]["frame"] == 4
    # a step that passes beside the segment's end is not a crossing
    beside = {f: (450.0, y) for f, (_, y) in path.items()}
    assert crossings(run(Counter([LINE], []), {1: beside}, 5)) == []


def test_a_u_turn_is_not_counted_twice():
    # across (down), back up 0.3 s later (a box swinging over the line), then down again: one crossing
    path = straight(40, 110, range(1, 11))
    path.update(straight(105, 60, range(11, 14)))
    path.update(straight(60, 160, range(14, 31)))
    assert crossings(run(Counter([LINE], []), {1: path}, 30)) == [(1, "in")]
    # a real return trip, well after the crossing, counts both ways
    slow = straight(40, 160, range(1, 11))
    slow.update({f: (200.0, 160.0) for f in range(11, 41)})
    slow.update(straight(160, 40, range(41, 51)))
    assert crossings(run(Counter([LINE], []), {1: slow}, 50)) == [(1, "in"), (1, "out")]


def test_an_id_switch_mid_crossing_counts_once():
    # id 1 walks down onto the line and is lost there; id 2 takes over a frame later and finishes
    first = straight(40, 99, range(1, 12))
    second = straight(104, 170, range(13, 30))
    events = run(Counter([LINE], []), {1: first, 2: second}, 30)
    assert crossings(events) == [(2, "in")]
    # without relinking (the peers' behaviour) the crossing is lost: neither id crossed on its own
    peers = CountingRules(relink_s=0, coast_s=0)
    assert crossings(run(Counter([LINE], [], peers), {1: first, 2: second}, 30)) == []
    # a switch right after a crossing is not counted twice when the new id wobbles back over
    after = straight(40, 110, range(1, 12))
    wobble = {13: (200.0, 96.0), 14: (200.0, 92.0), 15: (200.0, 104.0)}
    wobble.update(straight(110, 170, range(16, 30)))
    assert crossings(run(Counter([LINE], []), {1: after, 2: wobble}, 30)) == [(1, "in")]


def test_a_new_id_continues_only_a_lost_track_of_its_size():
    # a person near the camera (box 300 px tall) walks down out of view below the line; a far, small
    # person (40 px) appears 150 px away above it: not the same person, so no crossing is inherited
    near = {f: (200.0, 150.0 + 2 * f, 300.0) for f in range(1, 11)}
    small = {f: (260.0, 40.0 - (f - 11), 40.0) for f in range(11, 30)}
    assert crossings(run(Counter([LINE], []), {1: near, 2: small}, 30)) == []
    # (a new id of the same size continuing a lost one: test_an_id_switch_mid_crossing_counts_once)


def test_a_track_lost_just_before_the_line_heading_for_it_counts_once():
    # 59 px/s downwards, lost 6 px above the line: at its pace it is 8 px beyond it 0.25 s later
    lost = straight(40, 94, range(1, 11))
    events = run(Counter([LINE], []), {1: lost}, 30)
    assert crossings(events) == [(1, "in")]
    assert events[0]["frame"] == 10   # counted at the frame it was last seen
    assert crossings(run(Counter([LINE], [], CountingRules(coast_s=0)), {1: lost}, 30)) == []
    # too far from the line for its pace, standing still, or walking away: no crossing
    far = straight(40, 80, range(1, 11))
    still = {f: (200.0, 95.0) for f in range(1, 11)}
    away = straight(94, 40, range(1, 11))
    assert crossings(run(Counter([LINE], []), {1: far, 2: still, 3: away}, 30)) == []
    # heading for a point beside the segment's end: no crossing
    beside = {f: (450.0, y) for f, (_, y) in lost.items()}
    assert crossings(run(Counter([LINE], []), {1: beside}, 30)) == []
    # still in view on the last frame (the video ended, the track was not lost): no crossing
    assert crossings(run(Counter([LINE], []), {1: lost}, 10)) == []
    # re-acquired (same id) beyond the line after the gap: still one crossing
    back = dict(lost)
    back.update(straight(130, 160, range(20, 26)))
    assert crossings(run(Counter([LINE], []), {1: back}, 30)) == [(1, "in")]


def test_short_tracks_count_nothing_and_young_tracks_count_late():
    blip = {4: (200.0, 80.0), 5: (200.0, 130.0)}   # a 2-frame false track across the line
    assert crossings(run(Counter([LINE], []), {1: blip}, 6)) == []
    young = {1: (200.0, 80.0), 2: (200.0, 130.0), 3: (200.0, 135.0), 4: (200.0, 140.0)}
    events = run(Counter([LINE], []), {1: young}, 4)
    assert crossings(events) == [(1, "in")] and events[0]["frame"] == 2   # its own frame, released at 3


def test_zone_visit_dwell_and_occupancy():
    zone = parse_zone("desk=100,100,300,100,300,300,100,300")
    counter = Counter([], [zone])
    # enters at frame 11 (t=1.0 s), stays, leaves at frame 41 (t=4.0 s); a second track stays outside
    path = straight(20, 200, range(1, 11), x=200)
    path.update({f: (200.0, 200.0) for f in range(11, 41)})
    path.update(straight(200, 400, range(41, 51), x=200))
    outside = {f: (50.0, 50.0) for f in range(1, 51)}
    occupancy = []
    events = []
    for f in range(1, 51):
        ids = [tid for tid, p in ((1, path), (2, outside)) if f in p]
        xyxy = np.array([box_at(*(path if t == 1 else outside)[f]) for t in ids])
        events += counter.update(f, (f - 1) / FPS, np.array(ids), xyxy, ["person"] * len(ids))
        occupancy.append(counter.occupancy["desk"])
    enter = [e for e in events if e["event"] == "zone_enter"]
    exit_ = [e for e in events if e["event"] == "zone_exit"]
    assert [e["track_id"] for e in enter] == [1] and [e["track_id"] for e in exit_] == [1]
    assert exit_[0]["dwell_s"] == pytest.approx(exit_[0]["time_s"] - enter[0]["time_s"])
    assert 3.0 <= exit_[0]["dwell_s"] <= 4.5
    assert max(occupancy) == 1 and occupancy[0] == 0 and occupancy[25] == 1 and occupancy[-1] == 0


def test_a_track_lost_inside_a_zone_exits_where_it_was_last_seen():
    zone = parse_zone("desk=0,0,400,0,400,400,0,400")
    counter = Counter([], [zone])
    events = []
    for f in range(1, 40):
        ids = [5] if f <= 10 else []
        xyxy = np.array([box_at(200, 200)] * len(ids)).reshape(-1, 4)
        events += counter.update(f, (f - 1) / FPS, np.array(ids, np.int64), xyxy, ["person"] * len(ids))
    exit_ = [e for e in events if e["event"] == "zone_exit"]
    assert len(exit_) == 1 and exit_[0]["frame"] == 10 and exit_[0]["dwell_s"] == pytest.approx(0.9)


def test_directions_follow_the_drawing_order_of_the_line():
    down = straight(40, 160, range(1, 31))
    reversed_line = parse_line("door=400,100,0,100")   # drawn right to left: "in" = upwards
    assert crossings(run(Counter([reversed_line], []), {1: down}, 30)) == [(1, "out")]
    vertical = parse_line("v=200,0,200,400")           # drawn downwards: its right is the image's left
    left = {f: (float(x), 300.0) for f, x in zip(range(1, 31), np.linspace(300, 100, 30))}
    assert crossings(run(Counter([vertical], []), {1: left}, 30)) == [(1, "in")]


@pytest.mark.parametrize("spec", ["door", "door=1,2,3", "door=a,b,c,d", "door=5,5,5,5", "=1,2,3,4",
                                  "door=1,2,nan,4", "door=-1,2,3,4"])
def test_bad_line_specs_are_user_errors(spec):
    with pytest.raises(UserError):
        parse_line(spec)


def test_bad_zone_and_setup_are_user_errors():
    for spec in ["z=1,2,3,4", "z=0,0,10,0,20,0"]:
        with pytest.raises(UserError):
            parse_zone(spec)
    with pytest.raises(UserError):
        AnalyticsSetup.from_config({"lines": ["a=0,0,1,1"], "zones": ["a=0,0,1,0,1,1"]})
    with pytest.raises(UserError):
        AnalyticsSetup.from_config({"lines": ["a=0,0,1,1"], "anchor": "feet"})
    with pytest.raises(UserError):
        AnalyticsSetup.from_config({"lines": 5})
    for bad in ["0s", "abc", "-5m"]:
        with pytest.raises(UserError):
            parse_duration(bad)


def test_fractions_scale_to_the_frame():
    setup = AnalyticsSetup.from_config({"lines": {"mid": [0.5, 0, 0.5, 1]}})
    assert setup.lines[0].scaled(640, 480).points.tolist() == [[320, 0], [320, 480]]


def test_sink_writes_events_counts_and_totals_as_they_happen(tmp_path):
    setup = AnalyticsSetup.from_config({"lines": ["door=0,0.25,1,0.25"], "zones": ["all=0,0,1,0,1,1,0,1"],
                                        "count_bin": "2s"})
    sink = setup.sink(tmp_path, {0: "person"})
    image = np.zeros((400, 400, 3), np.uint8)
    path = straight(40, 160, range(1, 51))
    for f in range(1, 51):
        tracks = Tracks(np.array([box_at(*path[f])]), np.array([1]), np.array([0.9]), np.array([0]))
        sink.write(Frame(f - 1, (f - 1) / FPS, image), tracks)
        if f == 30:   # the crossing is on disk before the run ends
            lines = (tmp_path / "events.jsonl").read_text().splitlines()
            assert [json.loads(x)["event"] for x in lines] == ["zone_enter", "line_cross"]
    sink.close()
    summary = sink.summary()
    assert summary["lines"]["door"]["in"] == 1 and summary["lines"]["door"]["out"] == 0
    assert summary["lines"]["door"]["per_class"] == {"person": {"in": 1, "out": 0}}
    assert summary["zones"]["all"]["enter"] == 1 and summary["zones"]["all"]["max_occupancy"] == 1
    rows = (tmp_path / "counts.csv").read_text().splitlines()
    assert rows[0] == "bin_start_s,bin_end_s,name,kind,direction,class_name,count"
    door_in = [r.split(",") for r in rows[1:] if ",door,line,in,all," in r]
    assert [r[0] for r in door_in] == ["0.000", "2.000", "4.000"]   # 5 s of frames in 2 s bins
    assert sum(int(r[-1]) for r in door_in) == 1
    assert (tmp_path / "frame.jpg").is_file()
    occupancy = (tmp_path / "occupancy.csv").read_text().splitlines()
    assert len(occupancy) == 51


def test_analyze_keeps_the_runs_frames_without_tracks(tmp_path):
    from tracker.analytics.analyze import load_tracks

    # a 10 fps run of 8 frames, with tracks on frames 3-5 only
    rows = "".join(f"{f},{(f - 1) / 10:.3f},1,0,person,10,10,20,40,0.9,1\n" for f in (3, 4, 5))
    (tmp_path / "tracks.csv").write_text("frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score,detected\n" + rows)
    (tmp_path / "summary.json").write_text(json.dumps({"frames": 8, "source_fps": 10.0}))
    frames, meta = load_tracks(tmp_path)
    assert [f[0] for f in frames] == list(range(1, 9))
    assert [f[1] for f in frames] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert [len(f[2]) for f in frames] == [0, 0, 1, 1, 1, 0, 0, 0]
    assert "-0.0" not in repr([f[1] for f in frames])
    (tmp_path / "summary.json").unlink()   # a bare tracks file: its own first to last frame
    assert [f[0] for f in load_tracks(tmp_path)[0]] == [3, 4, 5]


def test_analyze_reads_files_in_any_row_order(tmp_path):
    from tracker.analytics.analyze import load_tracks

    rows = [f"{f},{tid},{10 * f + tid},20,10,30,0.9,-1,-1,-1" for f in (1, 2, 4) for tid in (7, 3)]
    (tmp_path / "by_frame.txt").write_text("\n".join(rows) + "\n")
    by_id = sorted(rows, key=lambda r: (int(r.split(",")[1]), -int(r.split(",")[0])))   # as some tools write
    (tmp_path / "by_id.txt").write_text("\n".join(by_id) + "\n")
    a, _ = load_tracks(tmp_path / "by_frame.txt", fps=10)
    b, _ = load_tracks(tmp_path / "by_id.txt", fps=10)
    assert [f[0] for f in a] == [1, 2, 3, 4] and [len(f[2]) for f in a] == [2, 2, 0, 2]
    for fa, fb in zip(a, b):
        order = np.argsort(fb[2])
        assert sorted(fa[2].tolist()) == fb[2][order].tolist()
        assert np.allclose(fa[3][np.argsort(fa[2])], fb[3][order])
    assert a[-1][0] == 4 and a[1][1] == pytest.approx(0.1)
    # a tracks.csv with a blank line and extra columns
    header = "frame,time_s,track_id,class_id,class_name,x1,y1,x2,y2,score,detected,extra\n"
    (tmp_path / "t.csv").write_text(header + "1,0.000,5,0,car,1,2,3,4,0.9,1,x\n\n2,0.100,5,0,car,2,2,4,4,0.9,1,y\n")
    frames, meta = load_tracks(tmp_path / "t.csv")
    assert [(f[0], f[1], f[2].tolist(), f[4]) for f in frames] == [(1, 0.0, [5], ["car"]), (2, 0.1, [5], ["car"])]
    assert meta["fps"] == pytest.approx(10.0)


def test_overlay_draws_lines_zones_and_counters(tmp_path):
    setup = AnalyticsSetup.from_config({"lines": ["door=0,0.5,1,0.5"], "zones": ["z=0.1,0.1,0.4,0.1,0.4,0.4"]})
    sink: AnalyticsSink = setup.sink(tmp_path, {0: "person"})
    image = np.zeros((200, 300, 3), np.uint8)
    frame = Frame(0, 0.0, image)
    sink.write(frame, Tracks.empty())
    drawn = sink.overlay(image.copy(), frame)
    assert drawn[100, 150].any()         # the line
    assert drawn[20:30, 30:120].any()    # the zone outline
    sink.close()


def test_a_counting_run_can_have_its_tracker_report_a_person_hidden_while_crossing():
    from tracker.trackers import make_tracker
    from tracker.types import Detections

    # off by default: a counting run keeps the tracker's own settings
    assert AnalyticsSetup.from_config({"lines": ["door=0,300,1000,300"]}).tracker_params("botsort", {}) == {}
    setup = AnalyticsSetup.from_config({"lines": ["door=0,300,1000,300"], "report_lost_frames": 45})
    params = setup.tracker_params("botsort", {})
    assert params == {"report_lost_frames": 45}
    # the user's own value wins; a run without lines or zones keeps the tracker's settings
    assert setup.tracker_params("botsort", {"report_lost_frames": 5}) == {"report_lost_frames": 5}
    assert AnalyticsSetup.from_config({"report_lost_frames": 45}).tracker_params(
        "botsort", {"track_buffer": 30}) == {"track_buffer": 30}

    def count(tracker_params) -> list:
        # walks down 2 px a frame (box 100 px high: margin 2 px) and is hidden for good 60 px above the
        # line: 15 predicted frames (30 px) + coasting 0.25 s (15 px) stop short of it, 45 (90 px) carry it over
        tracker = make_tracker("botsort", tracker_params, frame_rate=30.0)
        counter = Counter(setup.lines, [], setup.rules)
        events = []
        for f in range(1, 151):
            y = 100.0 + 2 * f
            seen = y <= 240
            dets = Detections(np.array([[490, y - 100, 530, y]] if seen else np.zeros((0, 4))),
                              np.ones(int(seen)), np.zeros(int(seen)))
            t = tracker.update(dets)
            events += counter.update(f, (f - 1) / 30, t.track_id, t.xyxy, ["person"] * len(t))
        return crossings(events + counter.finish())

    assert count({}) == []
    assert len(count(params)) == 1 and count(params)[0][1] == "in"


def test_a_copy_that_fails_half_way_leaves_no_partial_file(tmp_path, monkeypatch):
    """to_h264 re-encodes frame by frame into <name>.part.mp4: a failure after a hundred frames (a
    truncated source) removes that file instead of leaving it beside the run's video."""
    import av

    from helpers import REPO
    from tracker.analytics.report import to_h264

    real, calls = av.VideoFrame.from_ndarray, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 100:   # after the encoder has put out packets, so the file exists
            raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        return real(*args, **kwargs)

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", failing)
    dst = tmp_path / "copy.mp4"
    with pytest.raises(av.error.FFmpegError):
        to_h264(REPO / "sample_videos" / "crossing.mp4", dst)
    assert len(calls) == 101
    assert not dst.exists() and not (tmp_path / "copy.part.mp4").exists()
