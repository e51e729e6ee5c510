"""Amazon SageMaker (the control plane): training, processing and batch transform jobs,
hyperparameter tuning jobs, models, endpoint configs and endpoints, Model Monitor's job definitions,
schedules and executions, and resource tags."""

from shipyard.services.base import ServiceRouter
from shipyard.services.sagemaker import (
    endpoint_configs,
    endpoints,
    models,
    monitoring,
    monitoring_schedules,
    processing,
    tags,
    training,
    transform,
    tuning,
)

router = ServiceRouter("sagemaker")
for _module in (
    training,
    processing,
    transform,
    tuning,
    models,
    endpoint_configs,
    endpoints,
    monitoring,
    monitoring_schedules,
    tags,
):
    router.include(_module.router)

__all__ = ["router"]
