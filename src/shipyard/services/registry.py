"""Every service this server serves, by botocore service name."""

from shipyard.services.base import ServiceRouter
from shipyard.services.s3 import router as s3_router

ROUTERS: dict[str, ServiceRouter] = {"s3": s3_router}
