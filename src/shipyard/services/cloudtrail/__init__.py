"""AWS CloudTrail: the audit trail through ``LookupEvents``."""

from shipyard.services.cloudtrail.lookup_events import router

__all__ = ["router"]
