"""Authorization of every API request: who is asking, what they need, what their policies say.

The gateway asks the authorizer two things per request: :meth:`Authorizer.credential`
(the secret that checks the signature, and whose key it is) and
:meth:`Authorizer.authorize` (may this caller perform this operation with these
parameters?). The action table says which actions on which resources an operation needs;
the IAM store gives the caller's identity policies, permissions boundary and tags; the
resource's own policy (a bucket policy) joins in; the policy engine decides each check.

Policies are cached per principal and dropped whenever IAM changes (the IAM store's
``generation``); bucket policies are cached per bucket until S3 changes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import AwsError
from shipyard.iam.actions import RequiredAction, has_entry, required_actions
from shipyard.iam.callers import Caller, Credential
from shipyard.iam.context_keys import RequestFacts, principal_keys, request_keys
from shipyard.iam.policy import (
    AuthorizationRequest,
    Decision,
    NamedPolicy,
    PolicySet,
    PolicyType,
    Principal,
    denial_message,
    evaluate,
    parse_policy,
)
from shipyard.iam.sessions import Session, SessionStore
from shipyard.store.accounts import AccountStore

if TYPE_CHECKING:
    from shipyard.iam.store import IamStore, PrincipalRecord
    from shipyard.store.objects import S3Store

#: Operations any valid credentials may call, whatever the policies say (as in AWS).
_ALWAYS_ALLOWED = frozenset({("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")})

#: Bound on each cache (callers, entity ARNs): past it the cache starts over.
_MAX_CACHED = 10_000

_EXISTING_OBJECT_TAG = "s3:existingobjecttag/"
_RESOURCE_TAG = "aws:resourcetag/"

#: The error each service family answers a denial with.
_DENIAL_ERRORS = {"s3": ("AccessDenied", 403), "query": ("AccessDenied", 403), "json": ("AccessDeniedException", 400)}


@dataclass(frozen=True)
class _Identity:
    """A caller's identity-based side, as loaded for one IAM generation."""

    generation: int
    caller: Caller
    policies: PolicySet
    record: PrincipalRecord | None


class Authorizer:
    """Resolves access keys to callers and decides whether a caller may make a request."""

    def __init__(
        self, *, account_id: str, accounts: AccountStore, sessions: SessionStore, iam: IamStore, s3: S3Store
    ) -> None:
        self.account_id = account_id
        self._accounts = accounts
        self._sessions = sessions
        self._iam = iam
        self._s3 = s3
        self._identities: dict[str, _Identity] = {}
        self._bucket_policies: dict[str, NamedPolicy | None] = {}
        #: Bumped by every bucket-policy change, so a read that raced one is not cached.
        self._bucket_policy_epoch = 0
        self._entity_arns: dict[tuple[int, str], str] = {}

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    async def credential(self, access_key_id: str) -> Credential | None:
        """The long-term key or STS session with this access key id, or None."""
        if access_key_id.startswith("ASIA"):
            session = await self._sessions.get(access_key_id)
            if session is None:
                return None
            return Credential(
                access_key_id, session.secret_access_key, session.principal_arn, active=True, session=session
            )
        key = await self._accounts.get_access_key(access_key_id)
        if key is None:
            return None
        return Credential(access_key_id, key.secret_access_key, key.principal_arn, active=key.active)

    async def caller(self, credential: Credential) -> Caller:
        """The caller a verified credential acts as (its policies are loaded and cached)."""
        return (await self._identity(credential)).caller

    def required(
        self, caller: Caller, service: str, operation: str, params: Mapping[str, Any], *, region: str
    ) -> list[RequiredAction] | None:
        """What ``operation`` needs with these parameters (None: not in the action table)."""
        if not has_entry(service, operation):
            return None
        return required_actions(
            service,
            operation,
            params,
            region=region,
            account_id=self.account_id,
            caller_arn=caller.principal.arn if caller.principal.kind == "user" else None,
        )

    async def authorize(
        self,
        caller: Caller,
        service: str,
        operation: str,
        needed: list[RequiredAction] | None,
        facts: RequestFacts,
        *,
        error_style: str,
    ) -> None:
        """Check every action in ``needed`` (from :meth:`required`) for ``caller``.

        Raises the service family's access-denied error, worded as AWS words it, for the
        first check that fails. An operation missing from the action table is denied to
        everyone but root.
        """
        if self._unchecked(caller, service, operation):
            return
        if needed is None:
            raise _denied(
                error_style,
                f"User: {caller.principal.arn} is not authorized to perform: {service}:{operation} "
                "because Shipyard's action table has no entry for it",
            )
        async for _, request, decision in self._denials(caller, needed, facts):
            message = "Access Denied" if caller.is_anonymous else denial_message(request, decision)
            raise _denied(error_style, message)

    async def denied_resources(
        self, caller: Caller, service: str, operation: str, needed: list[RequiredAction], facts: RequestFacts
    ) -> frozenset[str]:
        """The resources in ``needed`` that ``caller`` may not act on (per-resource operations)."""
        if self._unchecked(caller, service, operation):
            return frozenset()
        return frozenset([resource async for resource, _, _ in self._denials(caller, needed, facts)])

    def _unchecked(self, caller: Caller, service: str, operation: str) -> bool:
        """Root, and operations any valid credentials may call, need no evaluation."""
        return caller.is_root or ((service, operation) in _ALWAYS_ALLOWED and not caller.is_anonymous)

    async def _denials(
        self, caller: Caller, needed: list[RequiredAction], facts: RequestFacts
    ) -> AsyncIterator[tuple[str, AuthorizationRequest, Decision]]:
        """Each check of ``needed`` that fails: the resource, the request and the decision."""
        identity = await self._identity_for(caller)
        base = {**principal_keys(caller), **request_keys(facts)}
        for required in needed:
            for resource in required.resources:
                resource = await self._with_iam_path(resource)
                decision, request = await self._decide(identity, required, resource, base)
                if not decision.allowed:
                    yield resource, request, decision

    async def trust_allows(self, caller: Caller, role: PrincipalRecord, context: Mapping[str, Any]) -> bool:
        """Whether ``role``'s trust policy lets ``caller`` assume it (sts:AssumeRole)."""
        assert role.trust is not None
        request = AuthorizationRequest(
            caller.principal, "sts:AssumeRole", role.arn, {**principal_keys(caller), **context}
        )
        decision = evaluate(request, PolicySet(resource=NamedPolicy(role.trust, role.arn, "resource")))
        return decision.allowed or decision.trusted

    def service_may_assume(self, service: str, role: PrincipalRecord) -> bool:
        """Whether ``role``'s trust policy lets the AWS service principal ``service``
        (``sagemaker.amazonaws.com``) assume it."""
        assert role.trust is not None
        principal = Principal(arn=service, account_id=None, kind="service")
        decision = evaluate(
            AuthorizationRequest(principal, "sts:AssumeRole", role.arn, {}),
            PolicySet(resource=NamedPolicy(role.trust, role.arn, "resource")),
        )
        return decision.allowed or decision.trusted

    def forget_bucket_policy(self, bucket: str) -> None:
        """Drop the cached policy of ``bucket`` (after it was put, deleted, or the bucket was)."""
        self._bucket_policy_epoch += 1
        self._bucket_policies.pop(bucket, None)

    async def _decide(
        self, identity: _Identity, required: RequiredAction, resource: str, base: Mapping[str, Any]
    ) -> tuple[Decision, AuthorizationRequest]:
        policies = identity.policies
        context = {**base, **required.context}
        if (resource_policy := await self._resource_policy(resource)) is not None:
            policies = PolicySet(
                identity=policies.identity,
                resource=resource_policy,
                boundary=policies.boundary,
                session=policies.session,
                has_session_policy=policies.has_session_policy,
            )
        # Tags cost a lookup: fetched only when a policy's condition tests them.
        if _tests_key_prefix(policies, _RESOURCE_TAG):
            context.update(await self._resource_tag_keys(resource))
        if _tests_key_prefix(policies, _EXISTING_OBJECT_TAG):
            context.update(await self._object_tag_keys(resource, required.context))
        request = AuthorizationRequest(identity.caller.principal, required.action, resource, context)
        return evaluate(request, policies), request

    async def _object_tag_keys(
        self, resource: str, request_keys: Mapping[str, tuple[str, ...]]
    ) -> dict[str, tuple[str, ...]]:
        """``s3:ExistingObjectTag/<key>`` of the object ``resource`` names (if it exists)."""
        bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
        if not resource.startswith("arn:aws:s3:::") or not key:
            return {}
        version_id = (request_keys.get("s3:VersionId") or (None,))[0]
        try:
            version = await self._s3.head_object(bucket=bucket, key=key, version_id=version_id)
        except AwsError:  # no such object: nothing to test, the handler answers
            return {}
        return {f"s3:ExistingObjectTag/{k}": (v,) for k, v in version.tags.items()}

    async def _resource_tag_keys(self, resource: str) -> dict[str, tuple[str, ...]]:
        """``aws:ResourceTag/<key>``: the tags of the IAM user or role, or of the S3 bucket
        (also for its objects), that ``resource`` names."""
        tags: Mapping[str, str] = {}
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            try:
                tags = await self._s3.get_bucket_tags(bucket)
            except AwsError:  # no bucket or no tags: nothing to test
                tags = {}
        elif resource.startswith(f"arn:aws:iam::{self.account_id}:"):
            kind = resource.split(":", 5)[-1].split("/", 1)[0]
            record = await self._iam.principal_record(resource) if kind in ("user", "role") else None
            tags = {} if record is None else record.tags
        return {f"aws:ResourceTag/{key}": (value,) for key, value in tags.items()}

    async def _identity_for(self, caller: Caller) -> _Identity:
        if caller.credential is None:
            return _Identity(self._iam.generation, caller, PolicySet(), None)
        return await self._identity(caller.credential)

    async def _identity(self, credential: Credential) -> _Identity:
        generation = self._iam.generation
        cached = self._identities.get(credential.access_key_id)
        if cached is not None and cached.generation == generation:
            return cached
        identity = await self._load_identity(credential, generation)
        if len(self._identities) >= _MAX_CACHED:
            self._identities.clear()
        self._identities[credential.access_key_id] = identity
        return identity

    async def _load_identity(self, credential: Credential, generation: int) -> _Identity:
        session = credential.session
        if credential.principal_arn == self.root_arn:
            principal = Principal(self.root_arn, self.account_id, "root")
            caller = Caller(principal, self.account_id, credential=credential)
            return _Identity(generation, caller, PolicySet(), None)
        if session is not None and session.kind == "assumed-role":
            return await self._load_role_session(credential, session, generation)
        record = await self._iam.principal_record(credential.principal_arn)
        principal = Principal(credential.principal_arn, self.account_id, "user")
        if record is None:
            caller = Caller(principal, credential.principal_arn, credential=credential)
            return _Identity(generation, caller, PolicySet(), None)
        caller = Caller(principal, record.id, record.name, record.tags, credential)
        policies = PolicySet(identity=tuple(record.identity), boundary=record.boundary)
        return _Identity(generation, caller, policies, record)

    async def _load_role_session(self, credential: Credential, session: Session, generation: int) -> _Identity:
        assert session.role_arn is not None
        principal = Principal(session.principal_arn, self.account_id, "assumed-role", role_arn=session.role_arn)
        user_id = f"{session.role_id}:{session.session_name}"
        record = await self._iam.principal_record(session.role_arn)
        if record is None:
            caller = Caller(principal, user_id, credential=credential)
            return _Identity(generation, caller, PolicySet(), None)
        tags = {**record.tags, **session.tags}
        caller = Caller(principal, user_id, None, tags, credential)
        session_policies = await self._session_policies(session)
        policies = PolicySet(
            identity=tuple(record.identity),
            boundary=record.boundary,
            session=session_policies,
            has_session_policy=session.has_session_policy,
        )
        return _Identity(generation, caller, policies, record)

    async def _session_policies(self, session: Session) -> tuple[NamedPolicy, ...]:
        policies = []
        if session.policy is not None:
            policies.append(NamedPolicy(parse_policy(session.policy, PolicyType.IDENTITY), "session", "none"))
        for arn in session.policy_arns:
            if (document := await self._iam.managed_policy_document(arn)) is not None:
                policies.append(NamedPolicy(document, arn, "none"))
        return tuple(policies)

    async def _resource_policy(self, resource: str) -> NamedPolicy | None:
        if not resource.startswith("arn:aws:s3:::"):
            return None
        bucket = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
        if bucket in self._bucket_policies:
            return self._bucket_policies[bucket]
        epoch = self._bucket_policy_epoch
        try:
            document = await self._s3.get_bucket_config(bucket, "policy")
        except AwsError:  # no such bucket: the handler reports it once authorized
            return None
        policy = None
        if document is not None:
            policy = NamedPolicy(parse_policy(document, PolicyType.RESOURCE), f"arn:aws:s3:::{bucket}", "resource")
        if epoch == self._bucket_policy_epoch:
            self._bucket_policies[bucket] = policy
        return policy

    async def _with_iam_path(self, resource: str) -> str:
        """An IAM user/group/role ARN with the entity's path, as AWS names it."""
        if not resource.startswith("arn:aws:iam::"):
            return resource
        kind, _, name = resource.split(":", 5)[-1].partition("/")
        if kind not in ("user", "group", "role") or "/" in name or not name:
            return resource
        cache_key = (self._iam.generation, resource)
        if (known := self._entity_arns.get(cache_key)) is None:
            known = await self._iam.entity_arn(kind, name) or resource
            if len(self._entity_arns) >= _MAX_CACHED:
                self._entity_arns.clear()
            self._entity_arns[cache_key] = known
        return known


def resources_of(needed: list[RequiredAction] | None) -> tuple[str, ...]:
    """The resource ARNs a request acts on, in order, without repeats (for the audit trail)."""
    return tuple(dict.fromkeys(arn for required in needed or () for arn in required.resources if arn != "*"))


def _tests_key_prefix(policies: PolicySet, prefix: str) -> bool:
    """Whether a condition of any of ``policies`` tests a key starting with ``prefix`` (lower case)."""
    named = [*policies.identity, *policies.session, policies.resource, policies.boundary]
    return any(
        clause.lookup.startswith(prefix)
        for entry in named
        if entry is not None
        for statement in entry.policy.statements
        for clause in statement.conditions
    )


def _denied(error_style: str, message: str) -> AwsError:
    code, status = _DENIAL_ERRORS[error_style]
    return AwsError(code, message, status)
