"""CloudWatch metric alarms: stored configuration and state (:mod:`.records`), the rules of
evaluation (:mod:`.evaluation`), the reconciler that applies them every minute
(:mod:`.evaluator`) and the actions a state change runs (:mod:`.actions`)."""

from shipyard.monitoring.alarms.actions import ActionRunner
from shipyard.monitoring.alarms.evaluator import AlarmEvaluator
from shipyard.monitoring.alarms.records import (
    Alarm,
    AlarmStore,
    HistoryItem,
    HistoryQuery,
)

__all__ = ["ActionRunner", "Alarm", "AlarmEvaluator", "AlarmStore", "HistoryItem", "HistoryQuery"]
