#!/usr/bin/env python
"""Fine-tune a ReID embedder on MOTChallenge-format data (crops of ground-truth identities).

Every ground-truth identity becomes a class. Identities are split into a training set and a
held-out test set (disjoint identities, as in ReID benchmarks). Training minimises identity
cross-entropy (label smoothing 0.1) plus a batch-hard triplet loss on unit-norm embeddings, with
batches of P identities x K crops. Before and after training the held-out identities are
evaluated: each identity's first crop is the query, the other crops the gallery; rank-1 and mAP
are printed and saved next to the weights (``<out>.json``).

The written checkpoint loads everywhere a ReID model is accepted:
``--reid runs/reid/finetuned.pth``, ``load_embedder("runs/reid/finetuned.pth")``,
``track export-reid runs/reid/finetuned.pth``.

Examples:
    python tools/train_reid.py ../shared/data/MOT17-mini/train --init osnet_x0_25_msmt17 \\
        --steps 200 --out runs/reid/osnet_mot17.pth          # TRACKER_WEIGHTS_DIR=../shared/models
    python tools/train_reid.py seqA seqB --init resnet18 --steps 500   # random-init ResNet-18
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from tracker.boxes import tlwh_to_xyxy  # noqa: E402
from tracker.errors import UserError  # noqa: E402
from tracker.formats.mot import is_mot_sequence, read_mot_results, read_seqinfo  # noqa: E402
from tracker.reid.backbone import BACKBONES, backbone_arch_from_state_dict, build_backbone  # noqa: E402
from tracker.reid.crops import REID_INPUT_HW, crop_boxes, to_network_input  # noqa: E402
from tracker.reid.factory import TORCH_SUFFIXES, load_torch_checkpoint, resolve_reid_weights  # noqa: E402
from tracker.reid.metrics import retrieval_metrics, split_query_gallery  # noqa: E402
from tracker.reid.osnet import OSNET_CHANNELS, OSNet, build_osnet, osnet_arch_from_state_dict  # noqa: E402
from tracker.reid.torch_embedder import TorchEmbedder  # noqa: E402


# ----------------------------------------------------------------------------------------- data
@dataclass
class CropSet:
    """All crops of the data set: ``crops`` (N, H, W, 3) uint8 BGR, ``ids`` (N,) identity index."""

    crops: np.ndarray
    ids: np.ndarray
    names: List[str]  # identity index -> "<sequence>:<gt id>"


def find_sequences(paths: Sequence[Path]) -> List[Path]:
    """Each path is a MOTChallenge sequence or a folder of them."""
    seqs: List[Path] = []
    for p in paths:
        if not p.exists():
            raise UserError(f"training data not found: {p}")
        if is_mot_sequence(p):
            seqs.append(p)
        elif p.is_dir():
            seqs += sorted(s for s in p.iterdir() if is_mot_sequence(s))
    if not seqs:
        raise UserError("no MOTChallenge sequence (seqinfo.ini + gt/gt.txt) in " +
                        ", ".join(map(str, paths)))
    return seqs


def load_crops(seqs: Sequence[Path], min_vis: float, min_height: float, max_per_id: int,
               size_hw=REID_INPUT_HW) -> CropSet:
    """Crop every kept ground-truth box: pedestrians (class 1 where given), marked for evaluation,
    at least ``min_vis`` visible and ``min_height`` px tall, at most ``max_per_id`` per identity
    (spread evenly over its frames), only from frames whose image exists."""
    crops, ids, names = [], [], []
    for seq in seqs:
        info = read_seqinfo(seq)
        gt_path = seq / "gt" / "gt.txt"
        if not gt_path.is_file():
            continue
        gt = read_mot_results(gt_path)
        keep = gt[:, 5] >= min_height
        if gt.shape[1] >= 7:
            keep &= gt[:, 6] != 0  # "consider" flag
        if gt.shape[1] >= 8:
            keep &= gt[:, 7] == 1  # pedestrian
        if gt.shape[1] >= 9:
            keep &= gt[:, 8] >= min_vis
        img_dir = seq / info.im_dir
        present = {int(p.stem) for p in img_dir.glob(f"*{info.im_ext}") if p.stem.isdigit()}
        gt = gt[keep & np.isin(gt[:, 0].astype(int), list(present))]
        rows = []
        for tid in np.unique(gt[:, 1]):  # evenly spread samples per identity
            r = np.flatnonzero(gt[:, 1] == tid)
            rows.append(r[np.linspace(0, len(r) - 1, min(len(r), max_per_id)).round().astype(int)])
            names.append(f"{info.name}:{int(tid)}")
        if not rows:
            continue
        gt = gt[np.sort(np.concatenate(rows))]
        first_label = len(names) - len(rows)
        label_of = {tid: first_label + i for i, tid in enumerate(np.unique(gt[:, 1]))}
        for frame in np.unique(gt[:, 0]).astype(int):
            g = gt[gt[:, 0] == frame]
            image = cv2.imread(str(img_dir / f"{frame:06d}{info.im_ext}"))
            if image is None:
                raise UserError(f"cannot read image {img_dir / f'{frame:06d}{info.im_ext}'}")
            c, valid = crop_boxes(image, tlwh_to_xyxy(g[:, 2:6]), size_hw)
            crops.append(c[valid])
            ids += [label_of[t] for t in g[valid, 1]]
    if not crops:
        raise UserError("no usable ground-truth boxes (check --min-vis/--min-height)")
    return CropSet(np.concatenate(crops), np.asarray(ids, np.int64), names)


def split_identities(ids: np.ndarray, test_fraction: float, rng: np.random.Generator):
    """(train_mask, test_mask) over samples; identities with one crop only are left out of the test."""
    uniq, counts = np.unique(ids, return_counts=True)
    multi = uniq[counts >= 2]
    n_test = int(round(len(multi) * test_fraction))
    test_ids = rng.choice(multi, n_test, replace=False) if n_test else np.zeros(0, np.int64)
    test = np.isin(ids, test_ids)
    return ~test, test


def sample_batch(ids: np.ndarray, p: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of P identities x K crops (with replacement when an identity has fewer than K)."""
    uniq = np.unique(ids)
    chosen = rng.choice(uniq, min(p, len(uniq)), replace=False)
    out = []
    for c in chosen:
        pool = np.flatnonzero(ids == c)
        out.append(rng.choice(pool, k, replace=len(pool) < k))
    return np.concatenate(out)


# ---------------------------------------------------------------------------------------- model
def load_initial_model(spec: str) -> tuple[nn.Module, str]:
    """(embedding network, architecture name) from weights (path/name) or an architecture name."""
    path = resolve_reid_weights(spec, device="cuda")  # bare names prefer .pth/.pt
    if path is not None and path.suffix.lower() in TORCH_SUFFIXES:
        model = load_torch_checkpoint(path).model
    elif spec in OSNET_CHANNELS:
        model = build_osnet(spec)
    elif spec in BACKBONES:
        model = build_backbone(spec)
    else:
        raise UserError(f"--init {spec!r}: not torch weights (.pth/.pt, or a name found in "
                        f"TRACKER_WEIGHTS_DIR) nor an architecture ({', '.join(OSNET_CHANNELS)}, "
                        f"{', '.join(BACKBONES)})")
    sd = model.state_dict()
    arch = osnet_arch_from_state_dict(sd) or backbone_arch_from_state_dict(sd)
    return model, arch


def embed_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Embedding in train mode (OSNet's forward returns logits there)."""
    return model.features(x) if isinstance(model, OSNet) else model(x)


def batch_hard_triplet(feat: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Hermans et al. 2017: for each anchor, hardest positive vs hardest negative, on unit vectors."""
    f = F.normalize(feat, dim=1)
    dist = torch.cdist(f, f)
    same = labels[:, None] == labels[None, :]
    hardest_pos = (dist * same).max(dim=1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
    valid = torch.isfinite(hardest_neg)  # a batch with a single identity has no negatives
    if not valid.any():
        return feat.sum() * 0.0
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


def evaluate(model: nn.Module, data: CropSet, mask: np.ndarray, device: str) -> dict:
    """rank-1/rank-5/mAP on the held-out identities (first crop = query, rest = gallery)."""
    if not mask.any():
        return {"queries": 0.0, "rank1": float("nan"), "rank5": float("nan"), "mAP": float("nan")}
    embedder = TorchEmbedder(model, device=device, input_hw=data.crops.shape[1:3])
    feats = embedder.embed_crops(data.crops[mask])
    ids = data.ids[mask]
    q, g = split_query_gallery(ids)
    return retrieval_metrics(feats[q], ids[q], feats[g], ids[g])


def train(model: nn.Module, data: CropSet, train_mask: np.ndarray, args, rng) -> List[float]:
    device = torch.device(args.device)
    train_ids = data.ids[train_mask]
    train_idx = np.flatnonzero(train_mask)
    labels_map = {c: i for i, c in enumerate(np.unique(train_ids))}  # classes 0..K-1
    dim = embed_features(model.eval(), torch.zeros(1, 3, *data.crops.shape[1:3])).shape[1]
    classifier = nn.Linear(dim, len(labels_map))
    if isinstance(model, OSNet):
        model.classifier = classifier  # saved with the model, so the checkpoint stays torchreid-like
    model.to(device)
    classifier.to(device)
    # the new classifier starts from random, so it learns 10x faster than the pretrained body
    head_ids = {id(p) for p in classifier.parameters()}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    opt = torch.optim.Adam([{"params": body, "lr": args.lr},
                            {"params": list(classifier.parameters()), "lr": args.lr * 10}],
                           weight_decay=5e-4)
    losses = []
    for step in range(args.steps):
        model.train()
        if args.freeze_bn:  # tiny batches would wreck pretrained BatchNorm statistics
            for m in model.modules():
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    m.eval()
        pick = sample_batch(train_ids, args.ids_per_batch, args.instances, rng)
        crops = data.crops[train_idx[pick]]
        flip = rng.random(len(crops)) < 0.5  # augmentation: horizontal flips
        crops[flip] = crops[flip][:, :, ::-1]
        x = torch.from_numpy(to_network_input(crops)).to(device)
        y = torch.tensor([labels_map[c] for c in train_ids[pick]], device=device)
        feat = embed_features(model, x)
        loss = (F.cross_entropy(classifier(feat), y, label_smoothing=0.1)
                + batch_hard_triplet(feat, y, args.margin))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if args.log_every and (step + 1) % args.log_every == 0:
            print(f"step {step + 1}/{args.steps} loss {np.mean(losses[-args.log_every:]):.4f}",
                  flush=True)
    return losses


# ------------------------------------------------------------------------------------------ CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", type=Path, help="MOTChallenge sequence(s) or folder(s) of them")
    p.add_argument("--init", default="osnet_x0_25_msmt17",
                   help="starting weights (path or name in TRACKER_WEIGHTS_DIR) or an architecture "
                        "to train from scratch (osnet_x0_25 ... osnet_x1_0, resnet18, ...)")
    p.add_argument("--out", type=Path, default=Path("runs/reid/finetuned.pth"), help="weights to write")
    p.add_argument("--steps", type=int, default=200, help="optimisation steps (default 200)")
    p.add_argument("--ids-per-batch", type=int, default=8, help="P identities per batch (default 8)")
    p.add_argument("--instances", type=int, default=4, help="K crops per identity (default 4)")
    p.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate (default 3e-4)")
    p.add_argument("--margin", type=float, default=0.3, help="triplet margin (default 0.3)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="share of identities held out for evaluation (default 0.2)")
    p.add_argument("--min-vis", type=float, default=0.3, help="least gt visibility (default 0.3)")
    p.add_argument("--min-height", type=float, default=50, help="least box height px (default 50)")
    p.add_argument("--max-per-id", type=int, default=16,
                   help="crops kept per identity, spread over its frames (default 16; bounds memory)")
    p.add_argument("--train-bn", dest="freeze_bn", action="store_false",
                   help="update BatchNorm statistics (default: frozen, better for small batches)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default cpu)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=20, help="print the loss every N steps (0: never)")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        data = load_crops(find_sequences(args.data), args.min_vis, args.min_height, args.max_per_id)
        train_mask, test_mask = split_identities(data.ids, args.test_fraction, rng)
        if len(np.unique(data.ids[train_mask])) < 2:
            raise UserError("need at least 2 training identities; add data or lower --test-fraction")
        print(f"data: {len(data.crops)} crops of {len(data.names)} identities "
              f"({len(np.unique(data.ids[train_mask]))} train / {len(np.unique(data.ids[test_mask]))} "
              f"held out), loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        model, arch = load_initial_model(args.init)
        before = evaluate(model, data, test_mask, args.device)
        t1 = time.perf_counter()
        losses = train(model, data, train_mask, args, rng)
        train_s = time.perf_counter() - t1
        after = evaluate(model, data, test_mask, args.device)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        report = {"arch": arch, "init": args.init, "steps": args.steps, "train_seconds": train_s,
                  "identities": len(data.names), "crops": int(len(data.crops)),
                  "final_loss": losses[-1] if losses else None, "before": before, "after": after}
        torch.save({"arch": arch, "state_dict": sd, "input_hw": list(data.crops.shape[1:3]),
                    "report": json.loads(json.dumps(report))}, args.out)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"held-out identities: rank-1 {before['rank1']:.3f} -> {after['rank1']:.3f}, "
              f"mAP {before['mAP']:.3f} -> {after['mAP']:.3f} ({int(after['queries'])} queries)")
        print(f"wrote {args.out} ({arch}, {args.steps} steps in {train_s:.1f} s)")
        return 0
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return UserError.exit_code


if __name__ == "__main__":
    sys.exit(main())
