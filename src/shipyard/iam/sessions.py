"""STS sessions: temporary credentials with a session token, an expiry and session policies.

A session is issued once (AssumeRole, GetSessionToken, or the server for a job's role) and
never changes, so lookups are cached for good. The token itself is not stored, only its
SHA-256: it is a bearer secret that the client shows on every request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Literal

from sqlalchemy import Connection, delete, insert, select

from shipyard.store.accounts import new_secret_access_key
from shipyard.store.database import Database
from shipyard.store.records import AnyRow, now_ms, to_datetime
from shipyard.store.tables import sts_sessions

SessionKind = Literal["assumed-role", "session-token"]

_KEY_ALPHABET = string.ascii_uppercase + "234567"

#: How long expired sessions are kept so that their keys answer ``ExpiredToken``
#: rather than "unknown key".
_KEEP_EXPIRED_MS = 7 * 24 * 3600 * 1000

#: Cached sessions past which expired ones are dropped from memory.
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class Session:
    """One set of temporary credentials and what they stand for."""

    access_key_id: str
    secret_access_key: str
    token_sha256: str
    kind: SessionKind
    #: Who the session acts as: the assumed-role ARN, or the user (root) that asked for a token.
    principal_arn: str
    #: Who asked for it (the caller of AssumeRole / GetSessionToken).
    source_arn: str
    created: datetime
    expires: datetime
    role_arn: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    #: The inline session policy (JSON text), if one was passed.
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    source_identity: str | None = None

    def accepts_token(self, token: str | None) -> bool:
        """Whether ``token`` is this session's token (compared in constant time)."""
        if not token:
            return False
        return hmac.compare_digest(_sha256(token), self.token_sha256)

    def expired(self, at_ms: int | None = None) -> bool:
        """Whether the credentials have expired (now, or at ``at_ms``)."""
        return (now_ms() if at_ms is None else at_ms) >= int(self.expires.timestamp() * 1000)

    @property
    def has_session_policy(self) -> bool:
        """Whether session policies cap what the session may do."""
        return self.policy is not None or bool(self.policy_arns)


@dataclass(frozen=True)
class IssuedSession:
    """A new session and its token, which is shown only this once."""

    session: Session
    session_token: str


class SessionStore:
    """The ``sts_sessions`` table, with an in-memory cache of looked-up sessions."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._cache: dict[str, Session] = {}

    async def issue(
        self,
        *,
        kind: SessionKind,
        principal_arn: str,
        source_arn: str,
        duration_seconds: int,
        role_arn: str | None = None,
        role_id: str | None = None,
        session_name: str | None = None,
        policy: str | None = None,
        policy_arns: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
        source_identity: str | None = None,
    ) -> IssuedSession:
        """Store a new session valid for ``duration_seconds`` and return it with its token."""
        token = _new_session_token()
        created_ms = now_ms()
        values = {
            "access_key_id": "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            "secret_access_key": new_secret_access_key(),
            "token_sha256": _sha256(token),
            "kind": kind,
            "principal_arn": principal_arn,
            "source_arn": source_arn,
            "role_arn": role_arn,
            "role_id": role_id,
            "session_name": session_name,
            "policy": policy,
            "policy_arns": list(policy_arns),
            "tags": dict(tags or {}),
            "source_identity": source_identity,
            "created_ms": created_ms,
            "expires_ms": created_ms + duration_seconds * 1000,
        }
        await self._db.write(lambda conn: conn.execute(insert(sts_sessions).values(**values)))
        session = _session(SimpleNamespace(**values))
        self._remember(session)
        return IssuedSession(session, token)

    async def get(self, access_key_id: str) -> Session | None:
        """The session whose access key this is, expired or not, or None."""
        if (cached := self._cache.get(access_key_id)) is not None:
            return cached

        def read(conn: Connection) -> AnyRow | None:
            return conn.execute(select(sts_sessions).where(sts_sessions.c.access_key_id == access_key_id)).first()

        row = await self._db.read(read)
        if row is None:
            return None
        session = _session(row)
        self._remember(session)
        return session

    def _remember(self, session: Session) -> None:
        if len(self._cache) >= _MAX_CACHED:
            # Expired sessions are looked up again (from the table) only to answer ExpiredToken.
            self._cache = {key: cached for key, cached in self._cache.items() if not cached.expired()}
        self._cache[session.access_key_id] = session

    async def purge_expired(self) -> int:
        """Forget sessions that expired more than a week ago; how many were removed."""
        cutoff = now_ms() - _KEEP_EXPIRED_MS

        def purge(conn: Connection) -> int:
            return conn.execute(delete(sts_sessions).where(sts_sessions.c.expires_ms < cutoff)).rowcount

        removed = await self._db.write(purge)
        self._cache = {key: s for key, s in self._cache.items() if s.expires.timestamp() * 1000 >= cutoff}
        return removed


def _session(row: AnyRow | SimpleNamespace) -> Session:
    return Session(
        access_key_id=row.access_key_id,
        secret_access_key=row.secret_access_key,
        token_sha256=row.token_sha256,
        kind=row.kind,
        principal_arn=row.principal_arn,
        source_arn=row.source_arn,
        created=to_datetime(row.created_ms),
        expires=to_datetime(row.expires_ms),
        role_arn=row.role_arn,
        role_id=row.role_id,
        session_name=row.session_name,
        policy=row.policy,
        policy_arns=tuple(row.policy_arns or ()),
        tags=dict(row.tags or {}),
        source_identity=row.source_identity,
    )


def _new_session_token() -> str:
    """An opaque token as long as AWS's (a few hundred base64 characters)."""
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(240)).decode()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
