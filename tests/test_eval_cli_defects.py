"""Defects new users hit with `track eval` (issue 15, items 11-12), each through the real CLI."""
import subprocess

import numpy as np
import pytest

from helpers import REPO, TRACK, assert_one_line_error, run_track
from tracker.formats.mot import parse_det_text


def tiny_sequence(root, name="TINY-01", n_frames=20, det_text=None):
    """Two walkers, MOT17 gt columns; det.txt = the gt boxes (or ``det_text``)."""
    seq = root / name
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate=30\nseqLength={n_frames}\n")
    gt = np.array([[f, k, 10 + 5 * f, 100 + 200 * k, 40, 80, 1, 1, 1.0]
                   for f in range(1, n_frames + 1) for k in (1, 2)])
    np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%g")
    if det_text is None:
        det_text = "".join(f"{int(r[0])},-1,{r[2]:g},{r[3]:g},40,80,0.9\n" for r in gt)
    (seq / "det" / "det.txt").write_text(det_text, encoding="utf-8")
    return seq, gt


def test_closed_stdout_is_quiet_and_keeps_the_files(tmp_path):
    """`track eval ... | head -1`: the reader leaves; no 'Broken pipe; files written...', no exit 2."""
    for i in range(3):
        tiny_sequence(tmp_path / "data", f"TINY-{i:02d}")
    out = tmp_path / "out"
    proc = subprocess.Popen([TRACK, "eval", str(tmp_path / "data"), "--tracker", "bytetrack", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.close()             # like `head` exiting at once: every write to stdout fails
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err.decode() == "", (proc.returncode, err)
    assert (out / "scores.csv").read_text().count("\n") == 5   # header + 3 sequences + COMBINED

    shell = subprocess.run(f"'{TRACK}' eval '{tmp_path / 'data'}' --tracker bytetrack --out '{out}' | head -1",
                           shell=True, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert shell.returncode == 0 and shell.stderr == "" and shell.stdout.startswith("sequence"), shell


def test_out_under_a_file_says_so(tmp_path):
    tiny_sequence(tmp_path / "data")
    (tmp_path / "file").write_text("x")
    proc = run_track("eval", tmp_path / "data", "--out", tmp_path / "file" / "sub")
    assert_one_line_error(proc, "cannot create output folder", "is a file")
    assert "Broken pipe" not in proc.stderr and "files written so far" not in proc.stderr


def test_nan_in_ground_truth_is_one_error_line(tmp_path):
    seq, gt = tiny_sequence(tmp_path / "data")
    text = (seq / "gt" / "gt.txt").read_text().splitlines()
    text[5] = "3,2,nan,300,40,80,1,1,1"
    (seq / "gt" / "gt.txt").write_text("\n".join(text) + "\n")
    proc = run_track("eval", tmp_path / "data", "--out", tmp_path / "out")
    assert_one_line_error(proc, "gt.txt:6", "NaN")


def test_det_file_variants_are_accepted(tmp_path):
    """A header line, a UTF-8 BOM, rows out of frame order: read, and tracked as the plain file."""
    seq, gt = tiny_sequence(tmp_path / "data", "PLAIN")
    plain = (seq / "det" / "det.txt").read_text()
    rows = plain.splitlines(keepends=True)
    variants = {"HEADER": "frame,id,x,y,w,h,score\n" + plain, "BOM": "\ufeff" + plain,
                "UNSORTED": "".join(rows[::-1]), "BOMHEADER": "\ufeffframe,id,x,y,w,h,score\n" + plain}
    ref = parse_det_text(plain, "det.txt")
    for name, text in variants.items():
        tiny_sequence(tmp_path / "data", name, det_text=text)
        got = parse_det_text(text, "det.txt")
        assert sorted(got) == sorted(ref)
        for frame in ref:   # the same boxes per frame
            assert sorted(map(tuple, got[frame].xyxy.tolist())) == sorted(map(tuple, ref[frame].xyxy.tolist()))
    proc = run_track("eval", tmp_path / "data", "--tracker", "bytetrack", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    lines = {l.split(",")[0]: l.split(",", 1)[1] for l in (tmp_path / "out" / "scores.csv").read_text().splitlines()}
    assert all(lines[name] == lines["PLAIN"] for name in variants), lines
    assert lines["PLAIN"].startswith("100.0,")  # perfect detections, perfect tracks


def test_a_header_is_only_skipped_on_the_first_line():
    with pytest.raises(Exception, match="not a number"):
        parse_det_text("1,-1,10,20,30,40,0.9\nframe,id,x,y,w,h,score\n", "det.txt")
