"""Mean average precision of detections, as PASCAL VOC scores it.

Per class, detections of all images are ranked by score; each is a true positive when its
IoU with a not-yet-matched ground-truth box of its image and class reaches the threshold.
Average precision is the area under the precision-recall curve made monotone (VOC 2010+);
the mean is over the classes that have ground-truth boxes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one ``[xmin, ymin, xmax, ymax]`` box with each row of ``others``."""
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return intersection / np.maximum(area + areas - intersection, 1e-12)


def mean_average_precision(
    detections: Sequence[np.ndarray], truths: Sequence[np.ndarray], num_classes: int, threshold: float = 0.5
) -> float:
    """mAP of ``detections`` (per image, rows ``[class, score, xmin, ymin, xmax, ymax]``)
    against ``truths`` (per image, rows ``[class, xmin, ymin, xmax, ymax]``)."""
    precisions = [
        average_precision(detections, truths, label, threshold)
        for label in range(num_classes)
        if any((truth[:, 0] == label).any() for truth in truths)
    ]
    return float(np.mean(precisions)) if precisions else 0.0


def average_precision(detections: Sequence[np.ndarray], truths: Sequence[np.ndarray], label: int, threshold: float) -> float:
    """AP of class ``label`` (see :func:`mean_average_precision`)."""
    boxes = [truth[truth[:, 0] == label, 1:5] for truth in truths]
    positives = sum(len(box) for box in boxes)
    matched = [np.zeros(len(box), dtype=bool) for box in boxes]
    ranked = sorted(
        ((row[1], image, row[2:6]) for image, found in enumerate(detections) for row in found if row[0] == label),
        key=lambda item: -item[0],
    )
    hits = np.zeros(len(ranked))
    for rank, (_, image, box) in enumerate(ranked):
        if not len(boxes[image]):
            continue
        overlaps = iou(box, boxes[image])
        best = int(overlaps.argmax())
        if overlaps[best] >= threshold and not matched[image][best]:
            matched[image][best] = True
            hits[rank] = 1
    if positives == 0:
        return 0.0
    true_positives = np.cumsum(hits)
    recall = np.concatenate([[0.0], true_positives / positives, [1.0]])
    precision = np.concatenate([[0.0], true_positives / np.arange(1, len(hits) + 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.nonzero(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))
