"""CloudWatch metric and composite alarms: stored configuration and state (:mod:`.records`),
the rules of evaluation (:mod:`.evaluation`), composite alarms' rules (:mod:`.alarm_rule`) and
their links to other alarms (:mod:`.composite`), the reconciler that applies them every minute
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
