"""CloudTrail: ``cloudtrail:<Operation>`` on the trail, event data store, channel or dashboard.

``LookupEvents`` and the other account-wide reads are checked on ``"*"``.
"""

from __future__ import annotations

from shipyard.iam.actions.base import passthrough, regional
from shipyard.iam.actions.generic import ServiceTable

_trail = regional("cloudtrail", "/", "trail")

TABLE = ServiceTable(
    prefix="cloudtrail",
    resources={
        "TrailName": _trail,
        "EventDataStore": regional("cloudtrail", "/", "eventdatastore"),
        "Channel": regional("cloudtrail", "/", "channel"),
        "DashboardId": regional("cloudtrail", "/", "dashboard"),
        "ResourceArn": passthrough,
        "ResourceId": passthrough,
    },
    nouns={
        "Trail": _trail,
        "TrailStatus": _trail,
        "Logging": _trail,
        "Channel": regional("cloudtrail", "/", "channel"),
        "Dashboard": regional("cloudtrail", "/", "dashboard"),
        "EventDataStore": regional("cloudtrail", "/", "eventdatastore"),
    },
    noun_members=("Name",),
    optional_resources=frozenset({"TrailName"}),
    not_resources=frozenset({"EventName"}),
)
