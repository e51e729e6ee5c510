"""Amazon CloudWatch: metrics (put and read), alarms and dashboards."""

from shipyard.services.base import ServiceRouter
from shipyard.services.cloudwatch import alarms, dashboards, metrics, tags

router = ServiceRouter("cloudwatch")
router.include(metrics.router)
router.include(alarms.router)
router.include(dashboards.router)
router.include(tags.router)

__all__ = ["router"]
