"""AWS IAM: users, groups, roles, managed and inline policies, access keys, the simulator.

Input constraints (lengths, patterns, ranges, enums) are checked by the gateway against
the model before a handler runs (:mod:`shipyard.aws.validation`).
"""

from shipyard.services.base import ServiceRouter
from shipyard.services.iam import (
    account,
    groups,
    inline,
    keys,
    policies,
    roles,
    simulate,
    users,
)

router = ServiceRouter("iam")
for module in (users, groups, roles, policies, inline, keys, account, simulate):
    router.include(module.router)
