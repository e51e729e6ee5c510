"""What the vision algorithms (Image Classification, Object Detection) share.

- :mod:`~shipyard.algorithms.vision.files`: a channel's image files, the relative paths that
  ``.lst`` and annotation files name, decoding and resizing (Pillow, imported when first needed);
- :mod:`~shipyard.algorithms.vision.training`: the optimizers, learning-rate steps, early
  stopping and best-epoch tracking that both declare with the same hyperparameter names;
- :mod:`~shipyard.algorithms.vision.predictor`: :class:`ImagePredictor`, one encoded image per
  request, answered in JSON or JSON lines.

PyTorch and Pillow come with the ``shipyard[deep]`` extra: callers get ``torch`` from
:func:`~shipyard.algorithms.container.require_torch` and pass it in.
"""
