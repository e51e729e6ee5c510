"""Policy validation: IAM's MalformedPolicyDocument messages, and what IAM accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipyard.errors import AwsError
from shipyard.iam.policy import PolicyType, parse_policy

IDENTITY = PolicyType.IDENTITY
RESOURCE = PolicyType.RESOURCE
TRUST = PolicyType.TRUST
BUCKET = "arn:aws:s3:::example_bucket"
SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A 2012-10-17 document with ``statements`` (one statement is given as an object)."""
    body: Any = statements[0] if len(statements) == 1 else list(statements)
    return {"Version": "2012-10-17", "Statement": body, **top}


def stmt(**fields: Any) -> dict[str, Any]:
    """An Allow of s3:ListBucket on a bucket, with ``fields`` overriding or adding."""
    statement = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET}
    statement.update(fields)
    return {key: value for key, value in statement.items() if value is not None}


def date_condition(value: str) -> dict[str, Any]:
    return {"DateLessThanEquals": {"aws:CurrentTime": value}}


INVALID = [
    ("not-json", "This is not a json document", IDENTITY, SYNTAX),
    ("json-array", "[]", IDENTITY, SYNTAX),
    ("bad-version", {**doc(stmt()), "Version": "2013-10-17"}, IDENTITY, SYNTAX),
    ("no-statement", {"Version": "2012-10-17"}, IDENTITY, SYNTAX),
    (
        "empty-statement-list",
        {"Version": "2012-10-17", "Statement": []},
        IDENTITY,
        SYNTAX,
    ),
    (
        "statement-string",
        {"Version": "2012-10-17", "Statement": ["afd"]},
        IDENTITY,
        SYNTAX,
    ),
    ("extra-top-field", doc(stmt(), Extra="value"), IDENTITY, SYNTAX),
    ("extra-statement-field", doc(stmt(Extra="value")), IDENTITY, SYNTAX),
    ("id-list", doc(stmt(), Id=["x"]), IDENTITY, SYNTAX),
    ("invalid-effect", doc(stmt(Effect="invalid")), IDENTITY, SYNTAX),
    ("missing-effect", doc(stmt(Effect=None)), IDENTITY, SYNTAX),
    ("sid-object", doc(stmt(Sid={})), IDENTITY, SYNTAX),
    ("action-and-not-action", doc(stmt(NotAction="iam:*")), IDENTITY, SYNTAX),
    ("resource-and-not-resource", doc(stmt(NotResource="*")), IDENTITY, SYNTAX),
    ("resource-object", doc(stmt(Resource={"a": BUCKET})), IDENTITY, SYNTAX),
    ("resource-list-with-object", doc(stmt(Resource=["x", {}])), IDENTITY, SYNTAX),
    ("action-nested-list", doc(stmt(Action=[[]])), IDENTITY, SYNTAX),
    ("condition-list", doc(stmt(Condition=[])), IDENTITY, SYNTAX),
    ("condition-string", doc(stmt(Condition="a")), IDENTITY, SYNTAX),
    ("condition-operator-string", doc(stmt(Condition={"a": "b"})), IDENTITY, SYNTAX),
    (
        "condition-value-object",
        doc(stmt(Condition={"DateGreaterThan": {"a": {}}})),
        IDENTITY,
        SYNTAX,
    ),
    (
        "unknown-operator",
        doc(stmt(Condition={"StringEqualz": {"a:b": "1"}})),
        IDENTITY,
        SYNTAX,
    ),
    (
        "bad-qualifier",
        doc(stmt(Condition={"ForAnyValue::StringEquals": {"a:b": "1"}})),
        IDENTITY,
        SYNTAX,
    ),
    (
        "principal-and-not-principal",
        doc(stmt(Principal="*", NotPrincipal={"AWS": "123456789012"})),
        RESOURCE,
        SYNTAX,
    ),
    ("principal-unknown-type", doc(stmt(Principal={"Group": "x"})), RESOURCE, SYNTAX),
    ("principal-string", doc(stmt(Principal="123456789012")), RESOURCE, SYNTAX),
    ("effect-wrong-case", doc(stmt(Effect="denY")), IDENTITY, LEGACY),
    (
        "effect-wrong-case-before-sid",
        doc(stmt(Sid="a", Effect="aLLow"), stmt(Sid="a")),
        IDENTITY,
        LEGACY,
    ),
    ("bad-date", doc(stmt(Condition=date_condition("sdfdsf"))), IDENTITY, LEGACY),
    ("bad-date-month", doc(stmt(Condition=date_condition("234-13"))), IDENTITY, LEGACY),
    (
        "bad-date-epoch",
        doc(stmt(Condition=date_condition("9223372036854775808"))),
        IDENTITY,
        LEGACY,
    ),
    (
        "bad-date-before-actions",
        doc(stmt(Action=None, Condition=date_condition("x"))),
        IDENTITY,
        LEGACY,
    ),
    ("short-arn", doc(stmt(Resource="arn:aws:s3::example_bucket")), IDENTITY, LEGACY),
    ("empty-service", doc(stmt(Resource="arn:aws::fdsasf")), IDENTITY, LEGACY),
    (
        "duplicate-sid",
        doc(stmt(Sid="a"), stmt(Sid="a", Action="s3:GetObject")),
        IDENTITY,
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    (
        "no-action",
        doc(stmt(Action=None)),
        IDENTITY,
        "Policy statement must contain actions.",
    ),
    (
        "empty-action",
        doc(stmt(Action=[])),
        IDENTITY,
        "Policy statement must contain actions.",
    ),
    (
        "no-action-second",
        doc({"Effect": "Deny"}, stmt()),
        IDENTITY,
        "Policy statement must contain actions.",
    ),
    (
        "no-resource",
        doc(stmt(Resource=None)),
        IDENTITY,
        "Policy statement must contain resources.",
    ),
    (
        "empty-resource",
        doc(stmt(Resource=[])),
        IDENTITY,
        "Policy statement must contain resources.",
    ),
    ("action-without-vendor", doc(stmt(Action="invalid")), IDENTITY, NO_VENDOR),
    ("empty-not-action", doc(stmt(Action=None, NotAction="")), IDENTITY, NO_VENDOR),
    (
        "vendor-before-resources",
        doc(stmt(Action="invalid", Resource=None)),
        IDENTITY,
        NO_VENDOR,
    ),
    (
        "two-colons",
        doc(stmt(Action="s3:List:Bucket")),
        IDENTITY,
        "Actions/Condition can contain only one colon.",
    ),
    (
        "bad-vendor",
        doc(stmt(Action="a a:ListBucket")),
        IDENTITY,
        "Vendor a a is not valid",
    ),
    (
        "resource-not-arn",
        doc(stmt(Resource="invalid resource")),
        IDENTITY,
        'Resource invalid resource must be in ARN format or "*".',
    ),
    (
        "resource-empty",
        doc(stmt(Resource="")),
        IDENTITY,
        'Resource  must be in ARN format or "*".',
    ),
    (
        "resource-partition",
        doc(stmt(Resource="a:b:cadfsdf")),
        IDENTITY,
        'Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".',
    ),
    (
        "resource-partition-long",
        doc(stmt(Resource="a:b:c:d:e:f:g:h")),
        IDENTITY,
        'Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".',
    ),
    (
        "resource-missing-arn-prefix",
        doc(stmt(Resource="aws:s3:::example_bucket")),
        IDENTITY,
        'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".',
    ),
    (
        "resource-no-vendor",
        doc(stmt(Resource="arn:aws")),
        IDENTITY,
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    (
        "iam-resource-region",
        doc(stmt(Resource="arn:aws:iam:us-east-1::example_bucket")),
        IDENTITY,
        "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information.",
    ),
    (
        "s3-resource-region",
        doc(stmt(Resource="arn:aws:s3:us-east-1::example_bucket")),
        IDENTITY,
        "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
    ),
    (
        "iam-resource-path",
        doc(stmt(Resource="arn:aws:iam:::example_bucket")),
        IDENTITY,
        (
            'IAM resource path must either be "*" or start with user/, federated-user/, '
            "role/, group/, instance-profile/, mfa/, server-certificate/, policy/, "
            "sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."
        ),
    ),
    (
        "identity-with-principal",
        doc(stmt(Principal={"AWS": "123456789012"})),
        IDENTITY,
        "Policy document should not specify a principal.",
    ),
    (
        "identity-with-not-principal",
        doc(stmt(NotPrincipal={"AWS": "123456789012"})),
        IDENTITY,
        "Policy document should not specify a principal.",
    ),
    (
        "bucket-policy-without-principal",
        doc(stmt()),
        RESOURCE,
        "Missing required field Principal",
    ),
    (
        "trust-with-resource",
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"Service": "sagemaker.amazonaws.com"},
            )
        ),
        TRUST,
        "Has prohibited field Resource.",
    ),
    (
        "trust-without-principal",
        doc(stmt(Action="sts:AssumeRole", Resource=None)),
        TRUST,
        NO_PRINCIPALS,
    ),
    (
        "trust-empty-principal",
        doc(stmt(Action="sts:AssumeRole", Resource=None, Principal={"AWS": []})),
        TRUST,
        NO_PRINCIPALS,
    ),
    (
        "principal-not-an-arn",
        doc(stmt(Principal={"AWS": "alice"})),
        RESOURCE,
        'Invalid principal in policy: "AWS":"alice"',
    ),
    (
        "principal-wildcard-arn",
        doc(stmt(Principal={"AWS": "arn:aws:iam::123456789012:user/*"})),
        RESOURCE,
        'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"',
    ),
]


@pytest.mark.parametrize(
    ("document", "policy_type", "message"),
    [pytest.param(d, t, msg, id=name) for name, d, t, msg in INVALID],
)
def test_invalid_documents_are_refused_with_aws_message(
    document: Any, policy_type: PolicyType, message: str
) -> None:
    with pytest.raises(AwsError) as caught:
        parse_policy(document, policy_type)
    assert (caught.value.code, caught.value.status) == ("MalformedPolicyDocument", 400)
    assert caught.value.message == message


VALID = [
    ("statement-object", doc(stmt()), IDENTITY),
    ("resource-list-and-star", doc(stmt(Resource=[BUCKET, "*"])), IDENTITY),
    ("odd-action-name", doc(stmt(Action="iam: asdf safdsf af ")), IDENTITY),
    (
        "unknown-service-arn",
        doc(stmt(Resource="arn:aws:invalid-service:us-east-1::x")),
        IDENTITY,
    ),
    ("short-arn-without-double-colon", doc(stmt(Resource="arn:aws:fdsasf")), IDENTITY),
    (
        "iam-user-path",
        doc(stmt(Resource="arn:aws:iam::123456789012:user/team/*")),
        IDENTITY,
    ),
    ("iam-star", doc(stmt(Resource="arn:aws:iam::123456789012:*")), IDENTITY),
    (
        "s3-access-point-region",
        doc(stmt(Resource="arn:aws:s3:us-east-1:1:accesspoint/x")),
        IDENTITY,
    ),
    ("empty-condition", doc(stmt(Condition={})), IDENTITY),
    ("unknown-operator-empty", doc(stmt(Condition={"a": {}})), IDENTITY),
    (
        "empty-date-values",
        doc(stmt(Condition={"DateGreaterThan": {"a": []}})),
        IDENTITY,
    ),
    (
        "iso-and-epoch-dates",
        doc(
            stmt(
                Condition={
                    "DateGreaterThan": {"a": ["2017-07-01T00:00:00Z", "1700000000"]}
                }
            )
        ),
        IDENTITY,
    ),
    (
        "date-variable",
        doc(stmt(Condition={"DateGreaterThan": {"a": "${aws:TokenIssueTime}"}})),
        IDENTITY,
    ),
    ("no-version", {"Statement": stmt()}, IDENTITY),
    ("old-version", {"Version": "2008-10-17", "Statement": [stmt()]}, IDENTITY),
    (
        "all-operators",
        doc(
            stmt(
                Condition={
                    "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
                    "ForAnyValue:NumericLessThan": {"k:n": 3},
                    "BoolIfExists": {"aws:SecureTransport": True},
                    "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"},
                    "IpAddressIfExists": {
                        "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]
                    },
                    "BinaryEquals": {"k:b": "QmluYXJ5"},
                    "Null": {"k:x": "true"},
                }
            )
        ),
        IDENTITY,
    ),
    ("bucket-policy-star", doc(stmt(Principal="*")), RESOURCE),
    (
        "bucket-policy-not-principal",
        doc(stmt(Effect="Deny", NotPrincipal={"AWS": ["123456789012"]})),
        RESOURCE,
    ),
    (
        "bucket-policy-canonical-user",
        doc(stmt(Principal={"CanonicalUser": "79a59df900b949e5"})),
        RESOURCE,
    ),
    (
        "trust-service",
        doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["sagemaker.amazonaws.com"]},
            }
        ),
        TRUST,
    ),
    (
        "trust-federated",
        doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
            }
        ),
        TRUST,
    ),
    (
        "trust-session-arn",
        doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": "arn:aws:sts::123456789012:assumed-role/r/s"},
            }
        ),
        TRUST,
    ),
]


@pytest.mark.parametrize(
    ("document", "policy_type"), [pytest.param(d, t, id=name) for name, d, t in VALID]
)
def test_documents_aws_accepts_parse(document: Any, policy_type: PolicyType) -> None:
    policy = parse_policy(document, policy_type)
    statements = document["Statement"]
    assert len(policy.statements) == (
        len(statements) if isinstance(statements, list) else 1
    )
    assert policy.policy_type is policy_type


def test_text_and_mapping_parse_alike() -> None:
    document = doc(stmt(Sid="One"), stmt(Sid="Two", Effect="Deny"), Id="p-1")
    from_text = parse_policy(json.dumps(document), IDENTITY)
    from_mapping = parse_policy(document, IDENTITY)
    assert (from_text.version, from_text.id) == ("2012-10-17", "p-1")
    assert [s.sid for s in from_text.statements] == ["One", "Two"]
    assert [s.effect for s in from_mapping.statements] == ["Allow", "Deny"]


def test_version_defaults_to_2008() -> None:
    assert parse_policy({"Statement": stmt()}, IDENTITY).version == "2008-10-17"
