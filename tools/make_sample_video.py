#!/usr/bin/env python
"""Generate the project's own sample videos: walking figures that cross and hide behind a pillar.

Every output is deterministic from ``--seed``: the same command writes the same ground truth (and,
with the same OpenCV build, the same video bytes). Two scenes:

``crossing`` (default, 250 frames)
    Six people-like figures (head, patterned shirt, trousers, swinging legs) in distinct colours walk
    across a textured street at different depths, pass each other, and pass behind a static pillar.
``reid_crossing`` (120 frames)
    Two same-sized figures with clearly different clothes walk towards each other, meet behind the
    pillar and *bounce back* there. A constant-velocity tracker predicts that each continues through,
    so motion alone swaps their identities; an appearance embedding keeps them apart.

Files written for each scene ``S`` into ``--out`` (default ``sample_videos/``):
    S.mp4         the video (mp4v), e.g. 640x360 at 25 fps
    S_gt.txt      MOTChallenge ground truth ``frame,id,x,y,w,h,1,1,visibility`` (frames 1-based;
                  amodal boxes, also while hidden; visibility = fraction of the figure's pixels seen)
    S_det.txt     detections derived from the ground truth ``frame,-1,x,y,w,h,score``: figures at
                  least ``--min-vis`` visible, boxes jittered by about 1 px, score rising with visibility

With ``--mot-dir DIR`` each scene is also written as a MOTChallenge sequence
``DIR/S/{seqinfo.ini, img1/000001.jpg..., gt/gt.txt, det/det.txt}``.

Example:
    python tools/make_sample_video.py                        # both scenes into sample_videos/
    python tools/make_sample_video.py --scene reid_crossing --out /tmp/s --frames 80
    python tools/make_sample_video.py --scene crossing --mot-dir /tmp/mot   # + MOT sequence layout
"""
from __future__ import annotations

import argparse
import configparser
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

SCENES = ("crossing", "reid_crossing")
DEFAULT_FRAMES = {"crossing": 250, "reid_crossing": 120}


# ----------------------------------------------------------------------------------------- sprites
@dataclass
class Figure:
    """One walking person-like figure: pre-rendered sprites (one per leg phase) plus its path."""

    track_id: int
    sprites: List[np.ndarray]  # each (h, w, 3) uint8 BGR
    masks: List[np.ndarray]  # each (h, w) bool: which sprite pixels belong to the figure
    xs: np.ndarray  # (T,) top-left x per frame (int)
    ys: np.ndarray  # (T,) top-left y per frame (int)

    def pose(self, t: int) -> Tuple[np.ndarray, np.ndarray]:
        """Sprite and mask at frame ``t``: legs move with the distance walked, and the figure faces
        where it walks (mirrored when walking left), so two mirror-image paths give mirror images."""
        dx = np.diff(self.xs[:t + 1], prepend=self.xs[0])
        walked = int(np.abs(dx).sum() + np.abs(np.diff(self.ys[:t + 1])).sum())
        phase = (walked // 6) % len(self.sprites)
        moving = dx[dx != 0]
        left = len(moving) > 0 and moving[-1] < 0
        spr, msk = self.sprites[phase], self.masks[phase]
        return (spr[:, ::-1], msk[:, ::-1]) if left else (spr, msk)

    @property
    def size(self) -> Tuple[int, int]:
        h, w = self.masks[0].shape
        return w, h


def _pattern(rng: np.random.Generator, h: int, w: int, base: np.ndarray, kind: str) -> np.ndarray:
    """A clothing texture: stripes, checks or dots in ``base`` and a contrasting second colour."""
    other = (255 - base * 0.8).clip(0, 255) if kind != "plain" else base
    yy, xx = np.mgrid[0:h, 0:w]
    period = int(rng.integers(5, 9))
    if kind == "hstripes":
        sel = (yy // period) % 2 == 0
    elif kind == "vstripes":
        sel = (xx // period) % 2 == 0
    elif kind == "checks":
        sel = ((yy // period) + (xx // period)) % 2 == 0
    elif kind == "dots":
        sel = ((yy % period - period / 2) ** 2 + (xx % period - period / 2) ** 2) > (period / 3) ** 2
    else:
        sel = np.ones((h, w), bool)
    img = np.where(sel[..., None], base[None, None, :], other[None, None, :])
    # a little shading so the texture is not perfectly flat (real cloth is not)
    shade = 0.85 + 0.15 * np.cos(np.linspace(-1.2, 1.2, w))[None, :, None]
    return (img * shade).clip(0, 255).astype(np.uint8)


def make_figure_sprites(rng: np.random.Generator, w: int, h: int, shirt: Sequence[int],
                        trousers: Sequence[int], kind: str, phases: int = 4
                        ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Render a person-like figure of size (w, h) in ``phases`` leg positions.

    Layout (fractions of h): head 0-0.17, shirt 0.16-0.58 (with arms), legs 0.56-1.0.
    """
    shirt_c = np.asarray(shirt, np.float64)
    skin = np.array([120, 160, 215]) * rng.uniform(0.6, 1.05)
    hair = np.array(rng.integers(10, 90, 3), np.float64)
    shirt_tex = _pattern(rng, h, w, shirt_c, kind)
    sprites, masks = [], []
    for p in range(phases):
        img = np.zeros((h, w, 3), np.uint8)
        mask = np.zeros((h, w), np.uint8)
        cx = w // 2
        # head with hair on top
        head_r = (max(3, int(w * 0.2)), max(4, int(h * 0.085)))
        head_c = (cx, int(h * 0.085))
        for im, col in ((img, tuple(int(c) for c in skin)), (mask, 255)):
            cv2.ellipse(im, head_c, head_r, 0, 0, 360, col, -1)
        cv2.ellipse(img, head_c, head_r, 0, 180, 360, tuple(int(c) for c in hair), -1)
        # torso (shirt) with arms, textured
        t0, t1 = int(h * 0.16), int(h * 0.58)
        tx0, tx1 = int(w * 0.12), int(w * 0.88)
        torso = np.zeros((h, w), np.uint8)
        cv2.rectangle(torso, (tx0, t0), (tx1, t1), 255, -1)
        swing = int(round(w * 0.1 * np.sin(2 * np.pi * p / phases)))
        cv2.rectangle(torso, (0 + max(0, swing), t0 + 2), (tx0, int(h * 0.52)), 255, -1)  # arms
        cv2.rectangle(torso, (tx1, t0 + 2), (w - 1 + min(0, swing), int(h * 0.52)), 255, -1)
        sel = torso > 0
        img[sel] = shirt_tex[sel]
        mask |= torso
        # legs: two trouser rectangles that swing in opposite phase
        leg_w = max(2, int(w * 0.3))
        for side, sign in ((cx - leg_w - 1, 1), (cx + 1, -1)):
            off = sign * int(round(w * 0.12 * np.sin(2 * np.pi * p / phases)))
            x0 = int(np.clip(side + off, 0, w - leg_w))
            cv2.rectangle(img, (x0, int(h * 0.56)), (x0 + leg_w, h - 1),
                          tuple(int(c) for c in trousers), -1)
            cv2.rectangle(mask, (x0, int(h * 0.56)), (x0 + leg_w, h - 1), 255, -1)
        sprites.append(img)
        masks.append(mask > 0)
    return sprites, masks


# ---------------------------------------------------------------------------------- background
def make_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A textured street: a brick wall on top, a paved floor below, smooth enough to compress well."""
    horizon = int(height * 0.38)
    bg = np.zeros((height, width, 3), np.float32)
    # wall: bricks with mortar lines and per-brick colour variation
    bw, bh = 64, 24
    for row in range(0, horizon, bh):
        shift = (row // bh) % 2 * (bw // 2)
        for col in range(-bw, width + bw, bw):
            tone = np.array([60, 80, 150], np.float32) * rng.uniform(0.75, 1.15)
            bg[row:row + bh - 3, max(0, col + shift):max(0, col + shift + bw - 3)] = tone
    bg[:horizon][bg[:horizon].sum(axis=2) == 0] = (110, 120, 140)  # mortar
    # floor: grey gradient with paving-stone lines in perspective-ish spacing
    ramp = np.linspace(110, 170, height - horizon, dtype=np.float32)[:, None, None]
    bg[horizon:] = ramp * np.array([0.95, 1.0, 1.02], np.float32)
    y = horizon
    step = 8
    while y < height:
        bg[int(y)] *= 0.7
        y += step
        step *= 1.25
    for x in range(-width, 2 * width, 60):  # lines converging to a vanishing point
        cv2.line(bg, (width // 2 + (x - width // 2) // 4, horizon), (x, height), (90, 95, 100), 1)
    # low-frequency noise: texture for appearance models and detectors, cheap for the codec
    noise = cv2.resize(rng.normal(0, 6, (height // 16, width // 16, 1)).astype(np.float32),
                       (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    bg = (bg + noise).clip(0, 255).astype(np.uint8)
    # soften edges: a sharp background costs the mp4v codec ~2x the bytes (the repo keeps < 2 MB)
    return cv2.GaussianBlur(bg, (7, 7), 0)


def draw_pillar(img: np.ndarray, x0: int, x1: int) -> None:
    """The static occluder: a full-height stone pillar with vertical fluting, drawn in place."""
    h = img.shape[0]
    w = x1 - x0
    shade = 0.6 + 0.4 * np.sin(np.linspace(0.2, np.pi - 0.2, w))  # rounded look
    flutes = 1.0 - 0.12 * ((np.arange(w) // 6) % 2)
    col = np.array([175, 185, 190], np.float32)[None, :] * (shade * flutes)[:, None]
    img[:, x0:x1] = col[None, :, :].astype(np.uint8)
    img[h - 12:, max(0, x0 - 6):x1 + 6] = (120, 125, 128)  # base


# --------------------------------------------------------------------------------------- scenes
@dataclass
class Scene:
    name: str
    width: int
    height: int
    fps: float
    figures: List[Figure]
    pillar: Tuple[int, int]  # x0, x1


# distinct clothes: (shirt BGR, trousers BGR, pattern)
CLOTHES = [
    ((40, 40, 210), (60, 40, 30), "hstripes"),    # red striped shirt, dark blue trousers
    ((200, 120, 20), (40, 40, 40), "checks"),     # blue checked shirt, black trousers
    ((40, 190, 60), (110, 100, 90), "dots"),      # green dotted shirt, grey trousers
    ((20, 200, 230), (30, 50, 90), "vstripes"),   # yellow striped shirt, brown trousers
    ((180, 60, 170), (150, 150, 150), "plain"),   # purple shirt, light trousers
    ((235, 235, 235), (20, 20, 110), "checks"),   # white checked shirt, maroon trousers
]


def _bounce_path(start: float, velocity: float, lo: float, hi: float, frames: int) -> np.ndarray:
    """Positions of a point moving at ``velocity`` that turns around at ``lo`` and ``hi``."""
    pos = np.empty(frames)
    x, v = start, velocity
    for t in range(frames):
        pos[t] = x
        x += v
        if x < lo or x > hi:
            v = -v
            x = min(max(x, lo), hi)
    return pos


def build_crossing(rng: np.random.Generator, width: int, height: int, frames: int) -> Scene:
    """Six figures at different depths walking back and forth, crossing each other and the pillar."""
    horizon = int(height * 0.38)
    figures = []
    # (foot y as a fraction of the floor, speed in px/frame); bigger when nearer the camera
    lanes = [(0.30, 2.2), (0.45, -2.8), (0.55, 1.6), (0.70, -2.0), (0.85, 3.0), (0.95, -1.3)]
    for i, ((shirt, trousers, kind), (lane, speed)) in enumerate(zip(CLOTHES, lanes)):
        foot = horizon + lane * (height - horizon)
        h = int((70 + 90 * lane) * height / 360)  # 97 .. 155 px tall at 640x360
        w = int(h * 0.38)
        sprites, masks = make_figure_sprites(rng, w, h, shirt, trousers, kind)
        x0 = rng.uniform(0, width - w)
        xs = _bounce_path(x0, speed * width / 640 * rng.uniform(0.9, 1.1), 0, width - w, frames)
        # a gentle diagonal drift so lanes also cross vertically
        drift = 10 * height / 360 * np.sin(np.arange(frames) / rng.uniform(25, 60) + rng.uniform(0, 6))
        ys = np.clip(foot - h + drift, 0, height - h)
        figures.append(Figure(i + 1, sprites, masks, xs.round().astype(int), ys.round().astype(int)))
    cx = int(width * 0.55)
    half = int(28 * width / 640)
    return Scene("crossing", width, height, 25.0, figures, (cx - half, cx + half))


def build_reid_crossing(rng: np.random.Generator, width: int, height: int, frames: int,
                        speed: float = 4.0, turn_px: float = 8.0, pillar_margin: float = 6.0
                        ) -> Scene:
    """Two figures walk towards each other, meet behind the pillar and bounce back there.

    Both are the same size and speed, on the same line, so only their clothes tell them apart. Each
    walks ``turn_px`` past the pillar's centre while hidden and turns round, so a constant-velocity
    prediction carries each track to the side the *other* figure re-emerges on.

    Args:
        speed: walking speed in px/frame at 640x360 (scaled with the width).
        turn_px: how far past the pillar's centre each figure walks before turning (at 640x360).
        pillar_margin: how much wider than a figure the pillar is, each side (at 640x360).
    """
    h = int(height * 0.42)
    w = int(h * 0.38)
    scale = width / 640
    speed, turn = speed * scale, turn_px * scale
    pillar_w = w + 2 * int(pillar_margin * scale)  # wide enough to hide a figure completely
    pillar_x0 = (width - pillar_w) // 2
    cx = width / 2
    t_meet = frames * 0.4  # the frame at which both centres reach the pillar's centre
    t = np.arange(frames)
    # centre x: walk in until t_turn, then walk back out at the same speed
    t_turn = t_meet + turn / speed
    a = cx + turn - speed * np.abs(t - t_turn)
    xs_a = (a - w / 2).round().astype(int)
    # the second figure is the exact mirror image in pixels (same visibility, frame for frame),
    # so both re-appear in the same frame and neither track gets a head start
    xs_b = width - w - xs_a
    y = int(height * 0.9) - h
    figures = []
    for i, (xs, (shirt, trousers, kind)) in enumerate(zip((xs_a, xs_b), CLOTHES[:2])):
        sprites, masks = make_figure_sprites(rng, w, h, shirt, trousers, kind)
        figures.append(Figure(i + 1, sprites, masks, xs, np.full(frames, y, int)))
    return Scene("reid_crossing", width, height, 25.0, figures, (pillar_x0, width - pillar_x0))


# ------------------------------------------------------------------------------------ rendering
def render_frame(scene: Scene, background: np.ndarray, t: int) -> Tuple[np.ndarray, np.ndarray]:
    """Draw frame ``t``; returns the BGR image and each figure's visibility (fraction of pixels)."""
    img = background.copy()
    label = np.zeros(img.shape[:2], np.int32)  # which figure owns each pixel (0 = none)
    H, W = label.shape
    # painter's algorithm: figures whose feet are lower (nearer the camera) are drawn last
    order = sorted(scene.figures, key=lambda f: f.ys[t] + f.size[1])
    total = {}
    for fig in order:
        spr, msk = fig.pose(t)
        x, y = int(fig.xs[t]), int(fig.ys[t])
        h, w = msk.shape
        # clip the sprite to the image
        sx0, sy0 = max(0, -x), max(0, -y)
        sx1, sy1 = min(w, W - x), min(h, H - y)
        total[fig.track_id] = int(msk.sum())
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        m = msk[sy0:sy1, sx0:sx1]
        region = img[y + sy0:y + sy1, x + sx0:x + sx1]
        region[m] = spr[sy0:sy1, sx0:sx1][m]
        label[y + sy0:y + sy1, x + sx0:x + sx1][m] = fig.track_id
    x0, x1 = scene.pillar
    draw_pillar(img, x0, x1)
    label[:, x0:x1] = 0
    counts = np.bincount(label.ravel(), minlength=len(scene.figures) + 1)
    vis = np.array([counts[f.track_id] / max(1, total[f.track_id]) for f in scene.figures])
    return img, vis


def gt_rows(scene: Scene, t: int, vis: np.ndarray) -> List[str]:
    """Ground-truth lines for frame index ``t`` (0-based): amodal boxes, visibility last."""
    rows = []
    for fig, v in zip(scene.figures, vis):
        w, h = fig.size
        rows.append(f"{t + 1},{fig.track_id},{fig.xs[t]},{fig.ys[t]},{w},{h},1,1,{v:.3f}")
    return rows


def det_rows(scene: Scene, t: int, vis: np.ndarray, rng: np.random.Generator,
             min_vis: float) -> List[str]:
    """Detections derived from the ground truth: visible enough figures, jittered, scored."""
    rows = []
    for fig, v in zip(scene.figures, vis):
        if v < min_vis:
            continue
        w, h = fig.size
        jx, jy, jw, jh = rng.normal(0, 1.0, 4)
        score = float(np.clip(0.55 + 0.4 * v + rng.normal(0, 0.03), 0.05, 0.99))
        rows.append(f"{t + 1},-1,{fig.xs[t] + jx:.1f},{fig.ys[t] + jy:.1f},"
                    f"{max(2.0, w + jw):.1f},{max(2.0, h + jh):.1f},{score:.3f}")
    return rows


def write_seqinfo(path: Path, name: str, scene: Scene, frames: int) -> None:
    ini = configparser.ConfigParser()
    ini.optionxform = str  # keep the MOTChallenge key case (frameRate, seqLength, ...)
    ini["Sequence"] = {"name": name, "imDir": "img1", "frameRate": str(int(scene.fps)),
                       "seqLength": str(frames), "imWidth": str(scene.width),
                       "imHeight": str(scene.height), "imExt": ".jpg"}
    with open(path, "w") as fh:
        ini.write(fh, space_around_delimiters=False)


def generate(scene_name: str, out_dir: Path, frames: Optional[int] = None, width: int = 640,
             height: int = 360, seed: int = 0, min_vis: float = 0.6,
             mot_dir: Optional[Path] = None, **scene_options) -> dict:
    """Render one scene and write its video, gt and det files; returns the paths written.

    >>> paths = generate("reid_crossing", Path("/tmp/sv"), frames=20)   # doctest: +SKIP
    >>> sorted(paths)                                                  # doctest: +SKIP
    ['det', 'gt', 'video']
    """
    if scene_name not in SCENES:
        raise ValueError(f"unknown scene {scene_name!r}; choose from {', '.join(SCENES)}")
    frames = frames or DEFAULT_FRAMES[scene_name]
    # one generator per purpose, so changing e.g. the det jitter never changes the picture
    scene_rng, det_rng = (np.random.default_rng([seed, SCENES.index(scene_name), k]) for k in (0, 1))
    build = build_crossing if scene_name == "crossing" else build_reid_crossing
    scene = build(scene_rng, width, height, frames, **scene_options)
    background = make_background(scene_rng, width, height)

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"video": out_dir / f"{scene_name}.mp4", "gt": out_dir / f"{scene_name}_gt.txt",
             "det": out_dir / f"{scene_name}_det.txt"}
    writer = cv2.VideoWriter(str(paths["video"]), cv2.VideoWriter_fourcc(*"mp4v"), scene.fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {paths['video']} with the mp4v codec")
    seq = None
    if mot_dir is not None:
        seq = Path(mot_dir) / scene_name
        for sub in ("img1", "gt", "det"):
            (seq / sub).mkdir(parents=True, exist_ok=True)
        write_seqinfo(seq / "seqinfo.ini", scene_name, scene, frames)
    gt, det = [], []
    try:
        for t in range(frames):
            img, vis = render_frame(scene, background, t)
            writer.write(img)
            if seq is not None:
                cv2.imwrite(str(seq / "img1" / f"{t + 1:06d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            gt += gt_rows(scene, t, vis)
            det += det_rows(scene, t, vis, det_rng, min_vis)
    finally:
        writer.release()
    paths["gt"].write_text("\n".join(gt) + "\n")
    paths["det"].write_text("\n".join(det) + "\n")
    if seq is not None:
        (seq / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
        (seq / "det" / "det.txt").write_text("\n".join(det) + "\n")
        paths["sequence"] = seq
    return paths


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scene", choices=SCENES + ("all",), default="all",
                   help="which scene to render (default: all)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "sample_videos",
                   help="output folder (default: the repository's sample_videos/)")
    p.add_argument("--frames", type=int, default=None,
                   help="number of frames (default: crossing 250, reid_crossing 120)")
    p.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (default 640x360)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--min-vis", type=float, default=0.6,
                   help="least visible fraction for a figure to appear in the det file (default 0.6)")
    p.add_argument("--mot-dir", type=Path, default=None,
                   help="also write each scene as a MOTChallenge sequence folder under this directory")
    args = p.parse_args(argv)
    try:
        args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        p.error(f"--size must look like 640x360, got {args.size!r}")
    if args.width < 160 or args.height < 120:
        p.error("--size must be at least 160x120")
    if args.frames is not None and args.frames < 1:
        p.error("--frames must be >= 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    scenes = SCENES if args.scene == "all" else (args.scene,)
    for name in scenes:
        paths = generate(name, args.out, args.frames, args.width, args.height, args.seed,
                         args.min_vis, args.mot_dir)
        print("wrote", ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
