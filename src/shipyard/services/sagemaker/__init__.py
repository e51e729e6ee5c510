"""Amazon SageMaker (the control plane): training, processing and batch transform jobs,
hyperparameter tuning jobs, models, endpoint configs and endpoints, and resource tags."""

from shipyard.services.base import ServiceRouter
from shipyard.services.sagemaker import (
    endpoint_configs,
    endpoints,
    models,
    processing,
    tags,
    training,
    transform,
    tuning,
)

router = ServiceRouter("sagemaker")
for _module in (training, processing, transform, tuning, models, endpoint_configs, endpoints, tags):
    router.include(_module.router)

__all__ = ["router"]
