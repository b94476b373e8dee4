"""COCO class names and the ``--classes`` filter (names or ids → ids)."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Union

from ..errors import UserError

# The 80 COCO classes in the contiguous order YOLO uses; FCOS outputs are mapped onto these ids.
COCO80: List[str] = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
]
COCO80_NAMES: Dict[int, str] = dict(enumerate(COCO80))


def parse_classes(spec: Union[None, str, int, Iterable], names: Dict[int, str]) -> Optional[List[int]]:
    """Turn ``"person,car"``, ``"0,2"``, ``[0, "car"]`` or None into a sorted list of class ids.

    >>> parse_classes("person, 2", COCO80_NAMES)
    [0, 2]
    """
    if spec is None or spec == "" or spec == []:
        return None
    items = spec.split(",") if isinstance(spec, str) else (list(spec) if not isinstance(spec, int) else [spec])
    by_name = {str(n).lower(): i for i, n in names.items()}
    ids = set()
    for item in items:
        key = str(item).strip().lower()
        if not key:
            continue
        if key.lstrip("-").isdigit():
            cid = int(key)
            if cid not in names:
                raise UserError(f"unknown class id {cid}: this detector has ids 0..{max(names)}")
            ids.add(cid)
        elif key in by_name:
            ids.add(by_name[key])
        else:
            sample = ", ".join(list(by_name)[:8])
            raise UserError(f"unknown class name '{item}' in --classes (known names include: {sample}, ...)")
    return sorted(ids)
