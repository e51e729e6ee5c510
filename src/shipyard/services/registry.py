"""Every service this server serves, by botocore service name."""

from shipyard.services.base import ServiceRouter
from shipyard.services.cloudtrail import router as cloudtrail_router
from shipyard.services.cloudwatch import router as cloudwatch_router
from shipyard.services.iam import router as iam_router
from shipyard.services.logs import router as logs_router
from shipyard.services.s3 import router as s3_router
from shipyard.services.sagemaker import router as sagemaker_router
from shipyard.services.sagemaker_runtime import router as sagemaker_runtime_router
from shipyard.services.sts import router as sts_router

ROUTERS: dict[str, ServiceRouter] = {
    "s3": s3_router,
    "cloudtrail": cloudtrail_router,
    "iam": iam_router,
    "sts": sts_router,
    "logs": logs_router,
    "sagemaker": sagemaker_router,
    "sagemaker-runtime": sagemaker_runtime_router,
    "cloudwatch": cloudwatch_router,
}
