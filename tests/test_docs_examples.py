"""The code on docs/from_ultralytics.md and docs/from_supervision.md runs as written, on ../shared data.

Each page's python blocks run in one fresh interpreter (each block in its own namespace) from the
repository root, as a reader would paste them; the pages' "same task both ways" pairs must both find
people.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from helpers import MODELS, REPO, needs_shared

RUNNER = r"""
import contextlib, io, json, sys
blocks = json.load(open(sys.argv[1]))
outputs = []
for code in blocks:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<docs block>", "exec"), {"__name__": "__main__"})
    outputs.append(buf.getvalue())
print(json.dumps(outputs))
"""


def python_blocks(page: str) -> list:
    return re.findall(r"```python\n(.*?)```", (REPO / "docs" / page).read_text(), re.S)


PAGES = ("from_ultralytics.md", "from_supervision.md")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    """Every page's blocks, run in one interpreter (imports of torch and ultralytics once)."""
    blocks = {page: python_blocks(page) for page in PAGES}
    spec = tmp_path_factory.mktemp("docs") / "blocks.json"
    spec.write_text(json.dumps([code for page in PAGES for code in blocks[page]]))
    env = dict(os.environ, PYTHONPATH=str(REPO), TRACKER_WEIGHTS_DIR=str(MODELS), YOLO_VERBOSE="False",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(spec)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = json.loads(proc.stdout.strip().splitlines()[-1])
    by_page, start = {}, 0
    for page in PAGES:
        by_page[page] = printed[start:start + len(blocks[page])]
        start += len(blocks[page])
    return by_page


def people(output: str) -> int:
    match = re.search(r"people: (\d+)", output)
    assert match, output
    return int(match.group(1))


@needs_shared
def test_from_ultralytics_page(outputs):
    out = outputs["from_ultralytics.md"]
    assert len(out) == 5
    theirs, ours = people(out[0]), people(out[1])
    assert theirs > 2 and ours > 2                      # the same clip, both ways
    assert len(out[2].splitlines()) == 4 and all("[" in line for line in out[2].splitlines())
    assert re.search(r"^\d+ frames$", out[3].strip())
    match = re.search(r"frames: (\d+) ids: \[(.*)\]", out[4])
    assert match and int(match.group(1)) == 60 and match.group(2).strip(), out[4]


@needs_shared
def test_from_supervision_page(outputs):
    out = outputs["from_supervision.md"]
    assert len(out) == 3
    counts = [people(o) for o in out]
    assert all(c > 0 for c in counts)
    assert counts[1] == counts[2]                        # the same tracker on the same detections
