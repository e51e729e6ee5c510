"""A job's execution role: checked when the job is created, assumed when it starts.

As on AWS, SageMaker (the service principal ``sagemaker.amazonaws.com``) assumes the
job's ``RoleArn``; the job gets that session's temporary credentials, so boto3 inside the
job may do what the role may do, and no more.
"""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.iam.authorizer import Authorizer
from shipyard.iam.principals import PrincipalRecord
from shipyard.iam.sessions import SessionStore
from shipyard.iam.store import IamStore

SERVICE = "sagemaker.amazonaws.com"

#: Credentials outlive the job's longest run by this much (the runner uploads after it).
_MARGIN_SECONDS = 3600


class JobRoles:
    """Checks and assumes job roles on behalf of SageMaker."""

    def __init__(self, iam: IamStore, authorizer: Authorizer, sessions: SessionStore) -> None:
        self._iam = iam
        self._authorizer = authorizer
        self._sessions = sessions

    async def check(self, role_arn: str) -> PrincipalRecord:
        """The role, if it exists and trusts SageMaker; else AWS's ValidationException."""
        role = await self._iam.role_by_name(role_arn.rsplit("/", 1)[-1])
        if role is None or role.arn != role_arn or not self._authorizer.service_may_assume(SERVICE, role):
            raise AwsError(
                "ValidationException",
                f"Could not assume role {role_arn}. Please ensure that the role exists and allows "
                f"principal '{SERVICE}' to assume the role.",
            )
        return role

    async def assume(self, role_arn: str, session_name: str, max_runtime_seconds: int) -> dict[str, Any]:
        """Temporary credentials of the role for one job: AccessKeyId, SecretAccessKey,
        SessionToken, Expiration (ISO 8601)."""
        role = await self.check(role_arn)
        issued = await self._sessions.issue(
            kind="assumed-role",
            principal_arn=f"arn:aws:sts::{role.arn.split(':')[4]}:assumed-role/{role.name}/{session_name}",
            source_arn=SERVICE,
            duration_seconds=max_runtime_seconds + _MARGIN_SECONDS,
            role_arn=role.arn,
            role_id=role.id,
            session_name=session_name,
        )
        session = issued.session
        return {
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret_access_key,
            "SessionToken": issued.session_token,
            "Expiration": session.expires.isoformat(),
        }
