"""Amazon SageMaker (the control plane): training and processing jobs, and resource tags."""

from shipyard.services.base import ServiceRouter
from shipyard.services.sagemaker import processing, tags, training

router = ServiceRouter("sagemaker")
for _module in (training, processing, tags):
    router.include(_module.router)

__all__ = ["router"]
