"""The job runner: the program inside every training and processing job process.

``python -m shipyard.jobs.runner <host dir>`` reads the host's :class:`~shipyard.jobs.spec.HostSpec`,
lays out SageMaker's ``/opt/ml`` tree, fetches the inputs, runs the job's code and uploads
what it produced. It imports only the standard library, boto3 (lazily) and this package.
"""
