"""Who signed a request: the credential behind an access key, and the caller it makes.

An access key is either a long-term key (the root's or an IAM user's, in the
``access_keys`` table) or an STS session's temporary key. Either way the gateway needs its
secret to check the signature, and the policy engine needs the principal it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shipyard.iam.policy import Principal
from shipyard.iam.sessions import Session

ANONYMOUS = Principal(arn="*", account_id=None, kind="anonymous")


@dataclass(frozen=True)
class Credential:
    """An access key as the gateway checks it: its secret, its owner, its session if any."""

    access_key_id: str
    secret_access_key: str
    #: The long-term owner (root or user) or, for a session, who the session acts as.
    principal_arn: str
    active: bool
    session: Session | None = None


@dataclass(frozen=True)
class Caller:
    """The principal a request acts as, with the facts policies and the audit trail use."""

    principal: Principal
    #: ``aws:userid``: the account id (root), the user's id, or ``<role id>:<session name>``.
    user_id: str
    #: ``aws:username``: set for IAM users only, as in AWS.
    username: str | None = None
    #: The principal's tags (``aws:PrincipalTag/<key>``): a user's, or a role's plus session tags.
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The verified credential the request was signed with (None when unsigned).
    credential: Credential | None = None

    @property
    def access_key_id(self) -> str | None:
        """The key that signed the request (None when unsigned)."""
        return None if self.credential is None else self.credential.access_key_id

    @property
    def session(self) -> Session | None:
        """The STS session of temporary credentials (None for long-term keys)."""
        return None if self.credential is None else self.credential.session

    @property
    def is_root(self) -> bool:
        """Whether this is the account's root, which every policy check lets through."""
        return self.principal.kind == "root"

    @property
    def is_anonymous(self) -> bool:
        """Whether the request was not signed at all."""
        return self.principal.kind == "anonymous"

    @property
    def display_name(self) -> str:
        """The name CloudTrail shows: user name, role session name, or ``root``."""
        if self.principal.kind == "root":
            return "root"
        if self.principal.kind == "anonymous":
            return "anonymous"
        return self.principal.arn.rsplit("/", 1)[-1]


ANONYMOUS_CALLER = Caller(principal=ANONYMOUS, user_id="anonymous")
