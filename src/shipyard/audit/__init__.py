"""The audit trail: every API call, who made it, on what, and how it ended.

The gateway builds one :class:`AuditEvent` per request and awaits
``runtime.audit.record(event)`` before answering; CloudTrail's ``LookupEvents`` and
``shipyard audit`` read them back with :meth:`AuditLog.lookup`.
"""

from shipyard.audit.events import AuditEvent
from shipyard.audit.log import AuditLog, AuditUnavailable
from shipyard.audit.lookup import Attribute, EventPage, LookupQuery, Position
from shipyard.audit.redaction import HIDDEN, redact
from shipyard.audit.resources import Resource, describe

__all__ = [
    "HIDDEN",
    "Attribute",
    "AuditEvent",
    "AuditLog",
    "AuditUnavailable",
    "EventPage",
    "LookupQuery",
    "Position",
    "Resource",
    "describe",
    "redact",
]
