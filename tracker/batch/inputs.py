"""What ``track batch INPUTS...`` means: the list of work units, one per video or MOT sequence.

An INPUT is
- a video file (any existing file that is not a manifest: a corrupt one fails as its own row),
- a folder: a MOTChallenge sequence (``seqinfo.ini``) is one input; any other folder is searched,
  recursively and in sorted order, for video files and MOT sequences (not inside a sequence); a
  folder named on the command line that holds only images is one input (as ``track frames/``),
- a glob (``'recordings/**/*.mp4'``, quoted so the shell leaves it to us),
- a manifest (``.txt`` / ``.list`` / ``.lst``): one path, folder or glob per line, ``#`` comments,
  relative paths taken from the manifest's folder.

Stream URLs (``rtsp://``...) become inputs that fail with a pointer to ``track URL...``: a batch task
must end to be done, a live camera does not (see the README).

Every input gets a folder name, ``DIR/<name>/``: the file's stem, made unique (``_2``, ``_3``) in
input order, so the same command maps the same input to the same folder and a rerun can skip it.

    >>> [(i.name, i.error) for i in expand_inputs(["rtsp://u:secret@cam/live"])]
    [('cam_live', "rtsp://u:***@cam/live is a live stream: track batch takes files; run 'track rtsp://u:***@cam/live' for live cameras")]
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from ..errors import UserError
from ..formats.mot import is_mot_sequence
from ..sources.file import IMAGE_EXTS
from ..sources.urls import is_stream_url, mask_url, safe_name

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mts",
              ".flv", ".wmv", ".3gp", ".h264", ".h265", ".hevc")
MANIFEST_EXTS = (".txt", ".list", ".lst")
GLOB_CHARS = "*?["


@dataclass
class BatchInput:
    """One work unit: ``spec`` is what a ``track`` run opens (absolute path), ``name`` its output
    folder under DIR, ``error`` set when it cannot run at all (it becomes a ``failed`` row)."""

    spec: str
    name: str = ""
    error: Optional[str] = None

    @property
    def label(self) -> str:
        """How the input appears in fleet.csv (credentials masked)."""
        return mask_url(self.spec)


def _is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MANIFEST_EXTS


def _search_folder(folder: Path, skip: Optional[Path]) -> List[Path]:
    """Videos and MOT sequences under ``folder``, sorted; ``skip`` (the output folder) is left out."""
    found: List[Path] = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs.sort()
        keep = []
        for d in dirs:
            sub = root_path / d
            if d.startswith(".") or (skip is not None and sub.resolve() == skip):
                continue
            if is_mot_sequence(sub):
                found.append(sub)
            else:
                keep.append(d)
        dirs[:] = keep
        found.extend(root_path / f for f in sorted(files) if Path(f).suffix.lower() in VIDEO_EXTS)
    return sorted(found)


def _expand_one(spec: str, base: Path, skip: Optional[Path], depth: int = 0) -> List[BatchInput]:
    if is_stream_url(spec) and not str(spec).isdigit():
        url = mask_url(spec)
        return [BatchInput(spec, error=f"{url} is a live stream: track batch takes files; "
                                       f"run 'track {url}' for live cameras")]
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_dir():
        if is_mot_sequence(path):
            return [BatchInput(str(path.resolve()))]
        found = _search_folder(path, skip)
        if not found and any(f.suffix.lower() in IMAGE_EXTS for f in path.iterdir()):
            return [BatchInput(str(path.resolve()))]      # a folder of frames, as `track frames/`
        if not found:
            return [BatchInput(str(path), error=f"no videos or MOT sequences found in folder {spec}")]
        return [BatchInput(str(p.resolve())) for p in found]
    if _is_manifest(path):
        if depth > 4:
            raise UserError(f"manifest {spec} includes manifests more than 4 levels deep")
        return expand_manifest(path, skip, depth + 1)
    if path.exists():
        return [BatchInput(str(path.resolve()))]
    if any(c in str(spec) for c in GLOB_CHARS):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            return [BatchInput(str(spec), error=f"no file matches {spec}")]
        out: List[BatchInput] = []
        for m in matches:
            out.extend(_expand_one(m, base, skip, depth))
        return out
    return [BatchInput(str(path), error=f"input not found: {spec}")]


def expand_manifest(path: Path, skip: Optional[Path] = None, depth: int = 1) -> List[BatchInput]:
    """The inputs a manifest lists: one per line, ``#`` comments, blank lines ignored."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read manifest {path}: {getattr(err, 'strerror', None) or err}") from None
    out: List[BatchInput] = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.extend(_expand_one(line, path.parent, skip, depth))
    return out


def expand_inputs(specs: Sequence[str], out_dir: Optional[Path] = None) -> List[BatchInput]:
    """Every input of a batch, in order, duplicates (same resolved path) removed, names unique."""
    skip = out_dir.resolve() if out_dir is not None else None
    items: List[BatchInput] = []
    for spec in specs:
        items.extend(_expand_one(str(spec), Path.cwd(), skip))
    seen = set()
    unique: List[BatchInput] = []
    for item in items:
        if item.spec not in seen:
            seen.add(item.spec)
            unique.append(item)
    assign_names(unique)
    return unique


def assign_names(items: Iterable[BatchInput]) -> None:
    """``DIR/<stem>/`` per input; a second ``clip.mp4`` (another folder) becomes ``clip_2``."""
    taken = set()
    for item in items:
        stem = Path(item.spec).stem if "://" not in item.spec else item.spec
        base = safe_name(stem) or "input"
        name, n = base, 2
        while name.lower() in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name.lower())
        item.name = name


def detections_for(template: Optional[str], item: BatchInput, n_inputs: int) -> Optional[str]:
    """The det file of one input from ``--detections``: a template with ``{path}`` (the input),
    ``{dir}`` (its folder), ``{stem}`` (its name without extension), or one plain file for a
    single input.

    >>> detections_for("{dir}/{stem}_det.txt", BatchInput("/data/a.mp4", "a"), 2)
    '/data/a_det.txt'
    >>> detections_for("{path}/det/det.txt", BatchInput("/mot/MOT17-02", "MOT17-02"), 2)
    '/mot/MOT17-02/det/det.txt'
    """
    if not template:
        return None
    if "{" not in template:
        if n_inputs > 1:
            raise UserError(f"--detections {template} is one file for {n_inputs} inputs: use a template "
                            "such as '{dir}/{stem}_det.txt' or '{path}/det/det.txt'")
        return template
    path = Path(item.spec)
    try:
        return template.format(path=str(path), dir=str(path.parent), stem=path.stem)
    except (KeyError, IndexError, ValueError) as err:
        raise UserError(f"--detections template {template}: unknown placeholder {err}; "
                        "use {path}, {dir} or {stem}") from None
