"""Amazon CloudWatch (the metrics read side): the metrics Shipyard records, such as endpoint invocations."""

from shipyard.services.base import ServiceRouter
from shipyard.services.cloudwatch import alarms, metrics

router = ServiceRouter("cloudwatch")
router.include(metrics.router)
router.include(alarms.router)

__all__ = ["router"]
