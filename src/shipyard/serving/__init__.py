"""Hosting: models, endpoint configs and endpoints (the server's side), and the model
server that runs inside each endpoint instance's worker process (the worker's side).

The worker's side (:mod:`~shipyard.serving.spec`, :mod:`~shipyard.serving.worker` and
what it imports) never imports the server: it talks to the server only through the files
of its instance directory and SageMaker's serving contract (``GET /ping``,
``POST /invocations``) on its port.
"""
