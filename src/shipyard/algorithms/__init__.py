"""SageMaker's built-in algorithms, run on this machine.

Each algorithm is a package ``shipyard.algorithms.<name>``:

- ``__init__.py`` declares ``ALGORITHM`` (an :class:`~shipyard.algorithms.spec.Algorithm`):
  its images, hyperparameters with SageMaker's names, defaults and ranges, channels,
  content types and metric definitions. It imports nothing heavy: the server reads it.
- ``train.py`` has ``fit(context)``, the algorithm's training; the job runner runs
  ``python -m shipyard.algorithms.container <name>`` inside the job's ``/opt/ml`` tree,
  which checks the job against the declaration and then calls it
  (:mod:`shipyard.algorithms.container` does the SageMaker part).
- ``serve.py`` has ``load(model_dir) -> Predictor``: the inference handler that endpoints
  and batch transform call with SageMaker's content types (:mod:`shipyard.algorithms.inference`).

The shared pieces: :mod:`~shipyard.algorithms.data` reads training channels (CSV, libsvm,
RecordIO-protobuf), :mod:`~shipyard.algorithms.recordio` is the RecordIO-protobuf codec,
:mod:`~shipyard.algorithms.catalog` lists the algorithms, :mod:`~shipyard.algorithms.vision` holds
what the two image algorithms share.
"""
