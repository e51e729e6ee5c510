"""The engine's decision table: statements x request -> Allow / explicit / implicit deny."""

from __future__ import annotations

import pytest
from policy_cases import (
    ACCOUNT,
    ALICE,
    ANONYMOUS,
    BOB,
    OBJECT,
    ROLE_ARN,
    ROOT,
    SESSION,
    Case,
    allow,
    case,
    deny,
)

from shipyard.iam.policy import evaluate

ALLOWED = "allowed"
DENY_IDENTITY = "explicitDeny:identity"
DENY_RESOURCE = "explicitDeny:resource"
DENY_BOUNDARY = "explicitDeny:boundary"
DENY_SESSION = "explicitDeny:session"
NO_IDENTITY = "implicitDeny:identity"
NO_RESOURCE = "implicitDeny:resource"
NO_BOUNDARY = "implicitDeny:boundary"
NO_SESSION = "implicitDeny:session"

BUCKET = "arn:aws:s3:::datasets"
ALICE_AWS = {"AWS": ALICE.arn}


def when(operator: str, key: str, values: object) -> dict[str, object]:
    """A Condition block with one operator and one key."""
    return {"Condition": {operator: {key: values}}}


ACTIONS = [
    case("action-exact", ALLOWED, identity=[allow("s3:GetObject")]),
    case("action-policy-case-insensitive", ALLOWED, identity=[allow("S3:getobject")]),
    case(
        "action-request-case-insensitive",
        ALLOWED,
        identity=[allow()],
        action="S3:GETOBJECT",
    ),
    case("action-service-wildcard", ALLOWED, identity=[allow("s3:*")]),
    case("action-prefix-wildcard", ALLOWED, identity=[allow("s3:Get*")]),
    case("action-inner-wildcard", ALLOWED, identity=[allow("s3:G*Object")]),
    case("action-question-mark", ALLOWED, identity=[allow("s3:?etObject")]),
    case(
        "action-question-mark-one-char", NO_IDENTITY, identity=[allow("s3:?GetObject")]
    ),
    case("action-star", ALLOWED, identity=[allow("*")]),
    case("action-list", ALLOWED, identity=[allow(["s3:PutObject", "s3:GetObject"])]),
    case("action-other", NO_IDENTITY, identity=[allow("s3:PutObject")]),
    case("action-no-prefix-match", NO_IDENTITY, identity=[allow("s3:GetObjec")]),
    case("action-longer-pattern", NO_IDENTITY, identity=[allow("s3:GetObjectTagging")]),
    case(
        "action-star-suffix-covers-longer",
        ALLOWED,
        identity=[allow("s3:GetObject*")],
        action="s3:GetObjectTagging",
    ),
    case("action-other-service", NO_IDENTITY, identity=[allow("sagemaker:*")]),
    case("action-service-is-literal", NO_IDENTITY, identity=[allow("s3x:GetObject")]),
    case(
        "not-action-allows-rest",
        ALLOWED,
        identity=[allow(None, NotAction="s3:PutObject")],
    ),
    case(
        "not-action-excludes", NO_IDENTITY, identity=[allow(None, NotAction="s3:Get*")]
    ),
    case(
        "not-action-list",
        NO_IDENTITY,
        identity=[allow(None, NotAction=["iam:*", "s3:*"])],
    ),
    case(
        "deny-not-action-denies-rest",
        DENY_IDENTITY,
        identity=[allow("*"), deny(None, NotAction="s3:PutObject")],
    ),
    case(
        "deny-not-action-spares-listed",
        ALLOWED,
        identity=[allow("*"), deny(None, NotAction=["s3:GetObject"])],
    ),
]

RESOURCES = [
    case("resource-exact", ALLOWED, identity=[allow(resource=OBJECT)]),
    case("resource-star", ALLOWED, identity=[allow(resource="*")]),
    case(
        "resource-prefix", ALLOWED, identity=[allow(resource="arn:aws:s3:::datasets/*")]
    ),
    case(
        "resource-deep-prefix", ALLOWED, identity=[allow(resource=f"{BUCKET}/public/*")]
    ),
    case(
        "resource-other-prefix",
        NO_IDENTITY,
        identity=[allow(resource=f"{BUCKET}/private/*")],
    ),
    case("resource-bucket-not-object", NO_IDENTITY, identity=[allow(resource=BUCKET)]),
    case("resource-bucket-star", ALLOWED, identity=[allow(resource=f"{BUCKET}*")]),
    case(
        "resource-dot-is-literal",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::my.bucket/*")],
        resource="arn:aws:s3:::myXbucket/k",
    ),
    case(
        "resource-dot-matches-dot",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::my.bucket/*")],
        resource="arn:aws:s3:::my.bucket/k",
    ),
    case(
        "resource-plus-is-literal",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::a+b/*")],
        resource="arn:aws:s3:::aab/k",
    ),
    case(
        "resource-brackets-literal",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::b/[x](y)$^")],
        resource="arn:aws:s3:::b/[x](y)$^",
    ),
    case(
        "resource-question-one-char",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::datasets/public/?.csv")],
    ),
    case(
        "resource-question-not-empty",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::datasets/public/x?.csv")],
    ),
    case(
        "resource-case-sensitive",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::Datasets/*")],
    ),
    case(
        "resource-star-matches-empty",
        ALLOWED,
        identity=[allow(resource=f"{BUCKET}/public/*")],
        resource=f"{BUCKET}/public/",
    ),
    case(
        "resource-star-crosses-newline",
        ALLOWED,
        identity=[allow(resource=f"{BUCKET}/*")],
        resource=f"{BUCKET}/a\nb",
    ),
    case(
        "resource-list-second",
        ALLOWED,
        identity=[allow(resource=["arn:aws:s3:::other/*", f"{BUCKET}/*"])],
    ),
    case(
        "resource-any-request-needs-star",
        NO_IDENTITY,
        identity=[allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")],
        action="s3:ListAllMyBuckets",
        resource="*",
    ),
    case(
        "resource-any-request-star",
        ALLOWED,
        identity=[allow("s3:ListAllMyBuckets", "*")],
        action="s3:ListAllMyBuckets",
        resource="*",
    ),
    case(
        "resource-multi-star",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::*/public/*.csv")],
    ),
    case(
        "not-resource-allows-others",
        ALLOWED,
        identity=[allow(resource=None, NotResource="arn:aws:s3:::secret/*")],
    ),
    case(
        "not-resource-excludes",
        NO_IDENTITY,
        identity=[allow(resource=None, NotResource=f"{BUCKET}/*")],
    ),
    case(
        "deny-not-resource-denies-outside",
        DENY_IDENTITY,
        identity=[
            allow(resource="*"),
            deny(resource=None, NotResource="arn:aws:s3:::other/*"),
        ],
    ),
    case(
        "deny-not-resource-spares-inside",
        ALLOWED,
        identity=[
            allow(resource="*"),
            deny(resource=None, NotResource=f"{BUCKET}/public/*"),
        ],
    ),
    case(
        "deny-not-resource-spares-list",
        ALLOWED,
        identity=[
            allow(resource="*"),
            deny(resource=None, NotResource=["arn:aws:s3:::x/*", f"{BUCKET}/*"]),
        ],
    ),
]

EFFECTS = [
    case("no-policy", NO_IDENTITY),
    case("deny-wins-same-policy", DENY_IDENTITY, identity=[allow(), deny()]),
    case("deny-wins-order", DENY_IDENTITY, identity=[deny(), allow("*", "*")]),
    case("deny-only", DENY_IDENTITY, identity=[deny()]),
    case("deny-other-action", ALLOWED, identity=[allow(), deny("s3:PutObject")]),
    case(
        "deny-other-resource",
        ALLOWED,
        identity=[allow(), deny(resource="arn:aws:s3:::x/*")],
    ),
    case(
        "allow-unmet-condition-not-applicable",
        NO_IDENTITY,
        identity=[allow(**when("StringEquals", "aws:username", "bob"))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "deny-unmet-condition-not-applicable",
        ALLOWED,
        identity=[allow(), deny(**when("Bool", "aws:SecureTransport", "false"))],
        context={"aws:SecureTransport": ["true"]},
    ),
    case(
        "deny-met-condition",
        DENY_IDENTITY,
        identity=[allow(), deny(**when("Bool", "aws:SecureTransport", "false"))],
        context={"aws:SecureTransport": ["false"]},
    ),
    case(
        "second-allow-applies",
        ALLOWED,
        identity=[allow(**when("StringEquals", "aws:username", "bob")), allow()],
        context={"aws:username": ["alice"]},
    ),
]

STRING = [
    case(
        "string-equals",
        ALLOWED,
        identity=[allow(**when("StringEquals", "s3:prefix", "home/"))],
        context={"s3:prefix": ["home/"]},
    ),
    case(
        "string-equals-case-sensitive-value",
        NO_IDENTITY,
        identity=[allow(**when("StringEquals", "s3:prefix", "Home/"))],
        context={"s3:prefix": ["home/"]},
    ),
    case(
        "string-key-case-insensitive",
        ALLOWED,
        identity=[allow(**when("StringEquals", "AWS:UserName", "alice"))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-context-key-case-insensitive",
        ALLOWED,
        identity=[allow(**when("StringEquals", "aws:username", "alice"))],
        context={"AWS:USERNAME": ["alice"]},
    ),
    case(
        "string-equals-values-or",
        ALLOWED,
        identity=[allow(**when("StringEquals", "aws:username", ["bob", "alice"]))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-equals-missing-key",
        NO_IDENTITY,
        identity=[allow(**when("StringEquals", "aws:username", "alice"))],
    ),
    case(
        "string-equals-star-is-literal",
        NO_IDENTITY,
        identity=[allow(**when("StringEquals", "aws:username", "*"))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-not-equals",
        ALLOWED,
        identity=[allow(**when("StringNotEquals", "aws:username", ["bob", "carol"]))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-not-equals-listed",
        NO_IDENTITY,
        identity=[allow(**when("StringNotEquals", "aws:username", ["bob", "alice"]))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-not-equals-missing-key-true",
        ALLOWED,
        identity=[allow(**when("StringNotEquals", "aws:username", "bob"))],
    ),
    case(
        "string-equals-ignore-case",
        ALLOWED,
        identity=[allow(**when("StringEqualsIgnoreCase", "aws:username", "ALICE"))],
        context={"aws:username": ["Alice"]},
    ),
    case(
        "string-not-equals-ignore-case",
        NO_IDENTITY,
        identity=[allow(**when("StringNotEqualsIgnoreCase", "aws:username", "ALICE"))],
        context={"aws:username": ["alice"]},
    ),
    case(
        "string-like-star",
        ALLOWED,
        identity=[allow(**when("StringLike", "s3:prefix", "home/*"))],
        context={"s3:prefix": ["home/alice/"]},
    ),
    case(
        "string-like-question",
        ALLOWED,
        identity=[allow(**when("StringLike", "s3:prefix", "v?"))],
        context={"s3:prefix": ["v2"]},
    ),
    case(
        "string-like-no-match",
        NO_IDENTITY,
        identity=[allow(**when("StringLike", "s3:prefix", "home/*"))],
        context={"s3:prefix": ["work/"]},
    ),
    case(
        "string-like-case-sensitive",
        NO_IDENTITY,
        identity=[allow(**when("StringLike", "s3:prefix", "HOME/*"))],
        context={"s3:prefix": ["home/x"]},
    ),
    case(
        "string-like-dot-literal",
        NO_IDENTITY,
        identity=[allow(**when("StringLike", "s3:prefix", "a.b*"))],
        context={"s3:prefix": ["aXb"]},
    ),
    case(
        "string-not-like",
        DENY_IDENTITY,
        identity=[allow(), deny(**when("StringNotLike", "s3:prefix", ["home/*", ""]))],
        context={"s3:prefix": ["etc/"]},
    ),
    case(
        "string-not-like-matching",
        ALLOWED,
        identity=[allow(), deny(**when("StringNotLike", "s3:prefix", ["home/*", ""]))],
        context={"s3:prefix": ["home/a"]},
    ),
    case(
        "string-not-like-missing-key-applies",
        DENY_IDENTITY,
        identity=[allow(), deny(**when("StringNotLike", "s3:prefix", "home/*"))],
    ),
]

NUMERIC = [
    case(
        f"numeric-{name}-{value}",
        expected,
        identity=[allow(**when(f"Numeric{name}", "s3:max-keys", "10"))],
        context={"s3:max-keys": [value]},
    )
    for name, value, expected in [
        ("Equals", "10", ALLOWED),
        ("Equals", "10.0", ALLOWED),
        ("Equals", "11", NO_IDENTITY),
        ("NotEquals", "11", ALLOWED),
        ("NotEquals", "10", NO_IDENTITY),
        ("LessThan", "9", ALLOWED),
        ("LessThan", "10", NO_IDENTITY),
        ("LessThanEquals", "10", ALLOWED),
        ("LessThanEquals", "11", NO_IDENTITY),
        ("GreaterThan", "11", ALLOWED),
        ("GreaterThan", "10", NO_IDENTITY),
        ("GreaterThanEquals", "10", ALLOWED),
        ("GreaterThanEquals", "9", NO_IDENTITY),
        ("LessThan", "ten", NO_IDENTITY),
    ]
] + [
    case(
        "numeric-missing-key",
        NO_IDENTITY,
        identity=[allow(**when("NumericLessThan", "s3:max-keys", "10"))],
    ),
    case(
        "numeric-not-equals-missing-key",
        ALLOWED,
        identity=[allow(**when("NumericNotEquals", "s3:max-keys", "10"))],
    ),
    case(
        "numeric-if-exists-missing",
        ALLOWED,
        identity=[allow(**when("NumericLessThanIfExists", "s3:max-keys", "10"))],
    ),
    case(
        "numeric-if-exists-present-fails",
        NO_IDENTITY,
        identity=[allow(**when("NumericLessThanIfExists", "s3:max-keys", "10"))],
        context={"s3:max-keys": ["1000"]},
    ),
    case(
        "numeric-json-number-value",
        ALLOWED,
        identity=[allow(**when("NumericLessThanEquals", "s3:max-keys", 100))],
        context={"s3:max-keys": ["100"]},
    ),
]

NOW = "2024-06-01T12:00:00Z"
NOW_EPOCH = "1717243200"

DATES = [
    case(
        "date-less-than-iso",
        ALLOWED,
        identity=[
            allow(**when("DateLessThan", "aws:CurrentTime", "2025-01-01T00:00:00Z"))
        ],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-less-than-expired",
        NO_IDENTITY,
        identity=[
            allow(**when("DateLessThan", "aws:CurrentTime", "2024-01-01T00:00:00Z"))
        ],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-greater-than-date-only",
        ALLOWED,
        identity=[allow(**when("DateGreaterThan", "aws:CurrentTime", "2024-05-31"))],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-equals-offset",
        ALLOWED,
        identity=[
            allow(**when("DateEquals", "aws:CurrentTime", "2024-06-01T14:00:00+02:00"))
        ],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-not-equals",
        NO_IDENTITY,
        identity=[allow(**when("DateNotEquals", "aws:CurrentTime", NOW))],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-epoch-policy-iso-request",
        ALLOWED,
        identity=[allow(**when("DateGreaterThanEquals", "aws:CurrentTime", NOW_EPOCH))],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "date-epoch-request",
        ALLOWED,
        identity=[allow(**when("DateLessThanEquals", "aws:EpochTime", NOW))],
        context={"aws:EpochTime": [NOW_EPOCH]},
    ),
    case(
        "date-epoch-request-later",
        NO_IDENTITY,
        identity=[allow(**when("DateLessThan", "aws:EpochTime", NOW))],
        context={"aws:EpochTime": [NOW_EPOCH]},
    ),
    case(
        "date-missing-key",
        NO_IDENTITY,
        identity=[allow(**when("DateGreaterThan", "aws:CurrentTime", "2020-01-01"))],
    ),
    case(
        "date-bad-request-value",
        NO_IDENTITY,
        identity=[allow(**when("DateGreaterThan", "aws:CurrentTime", "2020-01-01"))],
        context={"aws:CurrentTime": ["yesterday"]},
    ),
]

OTHER_OPERATORS = [
    case(
        "bool-true",
        ALLOWED,
        identity=[allow(**when("Bool", "aws:SecureTransport", "true"))],
        context={"aws:SecureTransport": ["true"]},
    ),
    case(
        "bool-json-boolean",
        ALLOWED,
        identity=[allow(**when("Bool", "aws:SecureTransport", True))],
        context={"aws:SecureTransport": ["TRUE"]},
    ),
    case(
        "bool-false-mismatch",
        NO_IDENTITY,
        identity=[allow(**when("Bool", "aws:SecureTransport", "false"))],
        context={"aws:SecureTransport": ["true"]},
    ),
    case(
        "bool-missing-key",
        NO_IDENTITY,
        identity=[allow(**when("Bool", "aws:MultiFactorAuthPresent", "true"))],
    ),
    case(
        "bool-if-exists-missing",
        ALLOWED,
        identity=[allow(**when("BoolIfExists", "aws:MultiFactorAuthPresent", "true"))],
    ),
    case(
        "binary-equals",
        ALLOWED,
        identity=[allow(**when("BinaryEquals", "s3:x-amz-meta-key", "QmluYXJ5"))],
        context={"s3:x-amz-meta-key": ["QmluYXJ5"]},
    ),
    case(
        "binary-equals-differs",
        NO_IDENTITY,
        identity=[allow(**when("BinaryEquals", "s3:x-amz-meta-key", "QmluYXJ5"))],
        context={"s3:x-amz-meta-key": ["QmluYXJ6"]},
    ),
    case(
        "ip-in-range",
        ALLOWED,
        identity=[allow(**when("IpAddress", "aws:SourceIp", "10.0.0.0/8"))],
        context={"aws:SourceIp": ["10.1.2.3"]},
    ),
    case(
        "ip-out-of-range",
        NO_IDENTITY,
        identity=[
            allow(**when("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.168.0.0/16"]))
        ],
        context={"aws:SourceIp": ["172.16.0.1"]},
    ),
    case(
        "ip-single-address",
        ALLOWED,
        identity=[allow(**when("IpAddress", "aws:SourceIp", "127.0.0.1"))],
        context={"aws:SourceIp": ["127.0.0.1"]},
    ),
    case(
        "ip-v6",
        ALLOWED,
        identity=[allow(**when("IpAddress", "aws:SourceIp", "2001:db8::/32"))],
        context={"aws:SourceIp": ["2001:db8::1"]},
    ),
    case(
        "ip-v4-vs-v6-range",
        NO_IDENTITY,
        identity=[allow(**when("IpAddress", "aws:SourceIp", "::/0"))],
        context={"aws:SourceIp": ["10.0.0.1"]},
    ),
    case(
        "ip-bad-request-value",
        NO_IDENTITY,
        identity=[allow(**when("IpAddress", "aws:SourceIp", "0.0.0.0/0"))],
        context={"aws:SourceIp": ["localhost"]},
    ),
    case(
        "not-ip-deny-outside",
        DENY_IDENTITY,
        identity=[allow(), deny(**when("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))],
        context={"aws:SourceIp": ["8.8.8.8"]},
    ),
    case(
        "not-ip-deny-inside",
        ALLOWED,
        identity=[allow(), deny(**when("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))],
        context={"aws:SourceIp": ["10.9.9.9"]},
    ),
    case(
        "arn-like-segments",
        ALLOWED,
        identity=[
            allow(**when("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:user/*"))
        ],
        context={"aws:PrincipalArn": [ALICE.arn]},
    ),
    case(
        "arn-like-star-stays-in-segment",
        NO_IDENTITY,
        identity=[allow(**when("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*"))],
        context={"aws:PrincipalArn": [ALICE.arn]},
    ),
    case(
        "arn-equals-exact",
        ALLOWED,
        identity=[allow(**when("ArnEquals", "aws:SourceArn", ROLE_ARN))],
        context={"aws:SourceArn": [ROLE_ARN]},
    ),
    case(
        "arn-equals-wrong-service",
        NO_IDENTITY,
        identity=[
            allow(**when("ArnEquals", "aws:SourceArn", "arn:aws:sts::*:role/trainer"))
        ],
        context={"aws:SourceArn": [ROLE_ARN]},
    ),
    case(
        "arn-like-not-an-arn",
        NO_IDENTITY,
        identity=[allow(**when("ArnLike", "aws:SourceArn", "arn:aws:iam::*:role/*"))],
        context={"aws:SourceArn": ["trainer"]},
    ),
    case(
        "arn-not-equals",
        ALLOWED,
        identity=[allow(**when("ArnNotEquals", "aws:PrincipalArn", ROLE_ARN))],
        context={"aws:PrincipalArn": [ALICE.arn]},
    ),
    case(
        "arn-not-like-missing-key",
        ALLOWED,
        identity=[
            allow(**when("ArnNotLike", "aws:SourceArn", "arn:aws:iam::*:role/*"))
        ],
    ),
    case(
        "null-true-missing",
        ALLOWED,
        identity=[allow(**when("Null", "aws:TokenIssueTime", "true"))],
    ),
    case(
        "null-true-present",
        NO_IDENTITY,
        identity=[allow(**when("Null", "aws:TokenIssueTime", "true"))],
        context={"aws:TokenIssueTime": [NOW]},
    ),
    case(
        "null-false-present",
        ALLOWED,
        identity=[allow(**when("Null", "aws:TokenIssueTime", "false"))],
        context={"aws:TokenIssueTime": [NOW]},
    ),
    case(
        "null-false-missing",
        NO_IDENTITY,
        identity=[allow(**when("Null", "sagemaker:VolumeKmsKey", False))],
    ),
    case(
        "deny-when-tag-missing",
        DENY_IDENTITY,
        identity=[allow(), deny(**when("Null", "aws:RequestTag/team", "true"))],
    ),
]

COMBINATIONS = [
    case(
        "two-keys-and-both",
        ALLOWED,
        identity=[
            allow(Condition={"StringEquals": {"s3:prefix": "a", "s3:delimiter": "/"}})
        ],
        context={"s3:prefix": ["a"], "s3:delimiter": ["/"]},
    ),
    case(
        "two-keys-and-one-fails",
        NO_IDENTITY,
        identity=[
            allow(Condition={"StringEquals": {"s3:prefix": "a", "s3:delimiter": "/"}})
        ],
        context={"s3:prefix": ["a"], "s3:delimiter": ["|"]},
    ),
    case(
        "two-operators-and",
        ALLOWED,
        identity=[
            allow(
                Condition={
                    "StringLike": {"s3:prefix": "home/*"},
                    "NumericLessThanEquals": {"s3:max-keys": "100"},
                }
            )
        ],
        context={"s3:prefix": ["home/x"], "s3:max-keys": ["50"]},
    ),
    case(
        "two-operators-one-fails",
        NO_IDENTITY,
        identity=[
            allow(
                Condition={
                    "StringLike": {"s3:prefix": "home/*"},
                    "NumericLessThanEquals": {"s3:max-keys": "100"},
                }
            )
        ],
        context={"s3:prefix": ["home/x"], "s3:max-keys": ["500"]},
    ),
    case(
        "date-window",
        ALLOWED,
        identity=[
            allow(
                Condition={
                    "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                    "DateLessThan": {"aws:CurrentTime": "2024-12-31T23:59:59Z"},
                }
            )
        ],
        context={"aws:CurrentTime": [NOW]},
    ),
    case(
        "empty-condition-block",
        ALLOWED,
        identity=[allow(Condition={})],
    ),
    case(
        "empty-operator-block",
        ALLOWED,
        identity=[allow(Condition={"StringEquals": {}})],
    ),
]

SETS = [
    case(
        "for-any-value-hit",
        ALLOWED,
        identity=[
            allow(**when("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"]))
        ],
        context={"aws:TagKeys": ["owner", "env"]},
    ),
    case(
        "for-any-value-miss",
        NO_IDENTITY,
        identity=[
            allow(**when("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"]))
        ],
        context={"aws:TagKeys": ["owner"]},
    ),
    case(
        "for-any-value-missing-key",
        NO_IDENTITY,
        identity=[allow(**when("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]))],
    ),
    case(
        "for-all-values-subset",
        ALLOWED,
        identity=[
            allow(**when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"]))
        ],
        context={"aws:TagKeys": ["env", "team"]},
    ),
    case(
        "for-all-values-extra",
        NO_IDENTITY,
        identity=[
            allow(**when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"]))
        ],
        context={"aws:TagKeys": ["env", "owner"]},
    ),
    case(
        "for-all-values-missing-key-true",
        ALLOWED,
        identity=[allow(**when("ForAllValues:StringEquals", "aws:TagKeys", ["team"]))],
    ),
    case(
        "for-all-values-empty-set-true",
        ALLOWED,
        identity=[allow(**when("ForAllValues:StringEquals", "aws:TagKeys", ["team"]))],
        context={"aws:TagKeys": []},
    ),
    case(
        "for-all-values-like",
        ALLOWED,
        identity=[
            allow(
                **when("ForAllValues:StringLike", "sagemaker:InstanceTypes", "ml.m5.*")
            )
        ],
        context={"sagemaker:InstanceTypes": ["ml.m5.large", "ml.m5.xlarge"]},
    ),
    case(
        "for-all-values-like-gpu-refused",
        NO_IDENTITY,
        identity=[
            allow(
                **when("ForAllValues:StringLike", "sagemaker:InstanceTypes", "ml.m5.*")
            )
        ],
        context={"sagemaker:InstanceTypes": ["ml.m5.large", "ml.p4d.24xlarge"]},
    ),
    case(
        "for-any-value-not-equals",
        ALLOWED,
        identity=[
            allow(**when("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"]))
        ],
        context={"aws:TagKeys": ["team", "env"]},
    ),
    case(
        "for-all-values-not-equals",
        NO_IDENTITY,
        identity=[
            allow(**when("ForAllValues:StringNotEquals", "aws:TagKeys", ["team"]))
        ],
        context={"aws:TagKeys": ["team", "env"]},
    ),
    case(
        "for-any-value-if-exists-missing",
        ALLOWED,
        identity=[
            allow(**when("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "team"))
        ],
    ),
    case(
        "multi-valued-key-without-qualifier",
        ALLOWED,
        identity=[allow(**when("StringEquals", "aws:TagKeys", "env"))],
        context={"aws:TagKeys": ["team", "env"]},
    ),
    case(
        "string-equals-if-exists-present-mismatch",
        NO_IDENTITY,
        identity=[allow(**when("StringEqualsIfExists", "s3:x-amz-acl", "private"))],
        context={"s3:x-amz-acl": ["public-read"]},
    ),
    case(
        "string-equals-if-exists-missing",
        ALLOWED,
        identity=[allow(**when("StringEqualsIfExists", "s3:x-amz-acl", "private"))],
    ),
]

HOME = "arn:aws:s3:::home/${aws:username}/*"
ALICE_HOME = "arn:aws:s3:::home/alice/notes.txt"
ALICE_VARS = {"aws:username": ["alice"], "aws:userid": ["AIDAEXAMPLE"]}

VARIABLES = [
    case(
        "variable-username-resource",
        ALLOWED,
        identity=[allow(resource=HOME)],
        resource=ALICE_HOME,
        context=ALICE_VARS,
    ),
    case(
        "variable-other-user",
        NO_IDENTITY,
        identity=[allow(resource=HOME)],
        resource="arn:aws:s3:::home/bob/notes.txt",
        context=ALICE_VARS,
    ),
    case(
        "variable-missing-value",
        NO_IDENTITY,
        identity=[allow(resource=HOME)],
        resource=ALICE_HOME,
    ),
    case(
        "variable-missing-value-not-resource-no-match",
        ALLOWED,
        identity=[allow(resource=None, NotResource=HOME)],
        resource=ALICE_HOME,
    ),
    case(
        "variable-default",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::home/${aws:username, 'guest'}/*")],
        resource="arn:aws:s3:::home/guest/x",
    ),
    case(
        "variable-default-unused-when-present",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::home/${aws:username, 'guest'}/*")],
        resource="arn:aws:s3:::home/guest/x",
        context=ALICE_VARS,
    ),
    case(
        "variable-userid",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::home/${aws:userid}/*")],
        resource="arn:aws:s3:::home/AIDAEXAMPLE/x",
        context=ALICE_VARS,
    ),
    case(
        "variable-principal-tag",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")],
        resource="arn:aws:s3:::teams/vision/x",
        context={"aws:PrincipalTag/team": ["vision"]},
    ),
    case(
        "variable-value-is-literal",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::teams/${aws:PrincipalTag/team}/x")],
        resource="arn:aws:s3:::teams/vision/x",
        context={"aws:PrincipalTag/team": ["*"]},
    ),
    case(
        "variable-escape-star",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::b/${*}x")],
        resource="arn:aws:s3:::b/*x",
    ),
    case(
        "variable-escape-star-is-literal",
        NO_IDENTITY,
        identity=[allow(resource="arn:aws:s3:::b/${*}x")],
        resource="arn:aws:s3:::b/yx",
    ),
    case(
        "variable-escape-question-and-dollar",
        ALLOWED,
        identity=[allow(resource="arn:aws:s3:::b/${?}${$}")],
        resource="arn:aws:s3:::b/?$",
    ),
    case(
        "variable-old-version-literal",
        NO_IDENTITY,
        identity=[allow(resource=HOME)],
        resource=ALICE_HOME,
        context=ALICE_VARS,
        version="2008-10-17",
    ),
    case(
        "variable-old-version-matches-text",
        ALLOWED,
        identity=[allow(resource=HOME)],
        resource="arn:aws:s3:::home/${aws:username}/x",
        context=ALICE_VARS,
        version=None,
    ),
    case(
        "variable-in-condition-like",
        ALLOWED,
        identity=[
            allow(
                "s3:ListBucket",
                BUCKET,
                **when("StringLike", "s3:prefix", "home/${aws:username}/*"),
            )
        ],
        action="s3:ListBucket",
        resource=BUCKET,
        context={**ALICE_VARS, "s3:prefix": ["home/alice/docs/"]},
    ),
    case(
        "variable-in-condition-other-user",
        NO_IDENTITY,
        identity=[
            allow(
                "s3:ListBucket",
                BUCKET,
                **when("StringLike", "s3:prefix", "home/${aws:username}/*"),
            )
        ],
        action="s3:ListBucket",
        resource=BUCKET,
        context={**ALICE_VARS, "s3:prefix": ["home/bob/"]},
    ),
    case(
        "variable-condition-unresolved-value-skipped",
        ALLOWED,
        identity=[
            allow(**when("StringEquals", "s3:prefix", ["${aws:username}", "shared/"]))
        ],
        context={"s3:prefix": ["shared/"]},
    ),
    case(
        "variable-condition-unresolved-value-no-match",
        NO_IDENTITY,
        identity=[allow(**when("StringEquals", "s3:prefix", "${aws:username}"))],
        context={"s3:prefix": [""]},
    ),
    case(
        "variable-resource-tag-equals-principal-tag",
        ALLOWED,
        identity=[
            allow(
                **when(
                    "StringEquals", "aws:ResourceTag/team", "${aws:PrincipalTag/team}"
                )
            )
        ],
        context={"aws:ResourceTag/team": ["nlp"], "aws:PrincipalTag/team": ["nlp"]},
    ),
]

BUCKET_POLICIES = [
    case(
        "bucket-public-read-anonymous",
        ALLOWED,
        resource_policy=[allow(Principal="*")],
        principal=ANONYMOUS,
    ),
    case(
        "bucket-aws-star-anonymous",
        ALLOWED,
        resource_policy=[allow(Principal={"AWS": "*"})],
        principal=ANONYMOUS,
    ),
    case("anonymous-without-bucket-policy", NO_RESOURCE, principal=ANONYMOUS),
    case(
        "anonymous-ignores-identity-like-grants",
        NO_RESOURCE,
        identity=[allow("*", "*")],
        principal=ANONYMOUS,
    ),
    case(
        "anonymous-not-named",
        NO_RESOURCE,
        resource_policy=[allow(Principal=ALICE_AWS)],
        principal=ANONYMOUS,
    ),
    case(
        "anonymous-not-account",
        NO_RESOURCE,
        resource_policy=[allow(Principal={"AWS": ACCOUNT})],
        principal=ANONYMOUS,
    ),
    case(
        "anonymous-explicit-deny",
        DENY_RESOURCE,
        resource_policy=[
            allow(Principal="*"),
            deny(Principal="*", resource=f"{BUCKET}/*"),
        ],
        principal=ANONYMOUS,
    ),
    case(
        "bucket-grants-user-alone",
        ALLOWED,
        resource_policy=[allow(Principal=ALICE_AWS)],
    ),
    case(
        "bucket-grants-user-list",
        ALLOWED,
        resource_policy=[allow(Principal={"AWS": [BOB.arn, ALICE.arn]})],
    ),
    case(
        "bucket-grants-other-user",
        NO_IDENTITY,
        resource_policy=[allow(Principal={"AWS": BOB.arn})],
    ),
    case(
        "bucket-grants-user-with-path",
        ALLOWED,
        resource_policy=[allow(Principal={"AWS": BOB.arn})],
        principal=BOB,
    ),
    case(
        "bucket-grants-star-to-user",
        ALLOWED,
        resource_policy=[allow(Principal="*")],
    ),
    case(
        "bucket-account-delegates-only",
        NO_IDENTITY,
        resource_policy=[allow(Principal={"AWS": ACCOUNT})],
    ),
    case(
        "bucket-root-arn-delegates-only",
        NO_IDENTITY,
        resource_policy=[allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
    ),
    case(
        "bucket-account-plus-identity",
        ALLOWED,
        identity=[allow()],
        resource_policy=[allow(Principal={"AWS": ACCOUNT})],
    ),
    case(
        "bucket-account-principal-matches-root",
        ALLOWED,
        resource_policy=[allow(Principal={"AWS": ACCOUNT})],
        principal=ROOT,
    ),
    case(
        "bucket-other-account",
        NO_IDENTITY,
        resource_policy=[allow(Principal={"AWS": "999999999999"})],
    ),
    case(
        "identity-allows-without-bucket-grant",
        ALLOWED,
        identity=[allow()],
        resource_policy=[allow("s3:PutObject", Principal=ALICE_AWS)],
    ),
    case(
        "bucket-user-deny-spares-others",
        ALLOWED,
        identity=[allow()],
        resource_policy=[deny(Principal={"AWS": BOB.arn})],
    ),
    case(
        "bucket-user-deny-hits-user",
        DENY_RESOURCE,
        identity=[allow()],
        resource_policy=[deny(Principal={"AWS": BOB.arn})],
        principal=BOB,
    ),
    case(
        "bucket-star-deny-beats-identity",
        DENY_RESOURCE,
        identity=[allow()],
        resource_policy=[deny(Principal="*")],
    ),
    case(
        "bucket-account-deny-hits-users",
        DENY_RESOURCE,
        identity=[allow()],
        resource_policy=[deny(Principal={"AWS": ACCOUNT})],
    ),
    case(
        "bucket-deny-insecure-transport",
        DENY_RESOURCE,
        resource_policy=[
            allow(Principal="*"),
            deny(Principal="*", **when("Bool", "aws:SecureTransport", "false")),
        ],
        principal=ANONYMOUS,
        context={"aws:SecureTransport": ["false"]},
    ),
    case(
        "bucket-grant-condition-unmet",
        NO_IDENTITY,
        resource_policy=[
            allow(Principal="*", **when("IpAddress", "aws:SourceIp", "10.0.0.0/8"))
        ],
        context={"aws:SourceIp": ["8.8.8.8"]},
    ),
    case(
        "bucket-other-bucket-statement",
        NO_IDENTITY,
        resource_policy=[allow(Principal="*", resource="arn:aws:s3:::other/*")],
    ),
    case(
        "not-principal-deny-spares-listed",
        ALLOWED,
        identity=[allow()],
        resource_policy=[
            deny(NotPrincipal={"AWS": [ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]}),
        ],
    ),
    case(
        "not-principal-deny-hits-others",
        DENY_RESOURCE,
        identity=[allow()],
        resource_policy=[
            deny(NotPrincipal={"AWS": [ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]}),
        ],
        principal=BOB,
    ),
    case(
        "not-principal-needs-account-listed",
        DENY_RESOURCE,
        identity=[allow()],
        resource_policy=[deny(NotPrincipal=ALICE_AWS)],
    ),
    case(
        "not-principal-session-spared-by-role",
        ALLOWED,
        identity=[allow()],
        resource_policy=[deny(NotPrincipal={"AWS": [ROLE_ARN, ACCOUNT]})],
        principal=SESSION,
    ),
    case(
        "not-principal-anonymous-denied",
        DENY_RESOURCE,
        resource_policy=[allow(Principal="*"), deny(NotPrincipal={"AWS": ACCOUNT})],
        principal=ANONYMOUS,
    ),
    case(
        "not-principal-deny-with-boundary-always-denies",
        DENY_RESOURCE,
        identity=[allow()],
        boundary=[allow("s3:*", "*")],
        resource_policy=[
            deny(NotPrincipal={"AWS": [ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]}),
        ],
    ),
    case(
        "not-principal-allow-grants-unlisted",
        ALLOWED,
        resource_policy=[allow(NotPrincipal={"AWS": [BOB.arn, ACCOUNT]})],
    ),
    case(
        "service-principal-does-not-match-user",
        NO_IDENTITY,
        resource_policy=[allow(Principal={"Service": "sagemaker.amazonaws.com"})],
    ),
]

BOUNDARIES = [
    case("boundary-allows", ALLOWED, identity=[allow()], boundary=[allow("s3:*", "*")]),
    case(
        "boundary-caps",
        NO_BOUNDARY,
        identity=[allow()],
        boundary=[allow("sagemaker:*", "*")],
    ),
    case("boundary-alone-grants-nothing", NO_IDENTITY, boundary=[allow("s3:*", "*")]),
    case(
        "boundary-explicit-deny",
        DENY_BOUNDARY,
        identity=[allow()],
        boundary=[allow("*", "*"), deny("s3:GetObject", "*")],
    ),
    case(
        "boundary-condition-unmet",
        NO_BOUNDARY,
        identity=[allow()],
        boundary=[
            allow("s3:*", "*", **when("IpAddress", "aws:SourceIp", "10.0.0.0/8"))
        ],
        context={"aws:SourceIp": ["8.8.8.8"]},
    ),
    case(
        "boundary-does-not-cap-user-grant",
        ALLOWED,
        boundary=[allow("sagemaker:*", "*")],
        resource_policy=[allow(Principal=ALICE_AWS)],
    ),
    case(
        "boundary-caps-account-delegation",
        NO_BOUNDARY,
        identity=[allow()],
        boundary=[allow("sagemaker:*", "*")],
        resource_policy=[allow(Principal={"AWS": ACCOUNT})],
    ),
    case(
        "boundary-caps-role-grant",
        NO_BOUNDARY,
        identity=[allow()],
        boundary=[allow("sagemaker:*", "*")],
        resource_policy=[allow(Principal={"AWS": ROLE_ARN})],
        principal=SESSION,
    ),
    case(
        "boundary-spares-session-grant",
        ALLOWED,
        boundary=[allow("sagemaker:*", "*")],
        resource_policy=[allow(Principal={"AWS": SESSION.arn})],
        principal=SESSION,
    ),
    case(
        "boundary-resource-scope",
        NO_BOUNDARY,
        identity=[allow("s3:*", "*")],
        boundary=[allow("s3:*", "arn:aws:s3:::other/*")],
    ),
]

SESSIONS = [
    case(
        "session-policy-allows",
        ALLOWED,
        identity=[allow("s3:*", "*")],
        session=[allow()],
        principal=SESSION,
    ),
    case(
        "session-policy-caps",
        NO_SESSION,
        identity=[allow("s3:*", "*")],
        session=[allow("s3:PutObject", "*")],
        principal=SESSION,
    ),
    case(
        "session-policy-alone-grants-nothing",
        NO_IDENTITY,
        session=[allow("s3:*", "*")],
        principal=SESSION,
    ),
    case(
        "session-policy-explicit-deny",
        DENY_SESSION,
        identity=[allow("s3:*", "*")],
        session=[allow("*", "*"), deny()],
        principal=SESSION,
    ),
    case(
        "session-flag-without-policies-denies",
        NO_SESSION,
        identity=[allow("s3:*", "*")],
        has_session_policy=True,
        principal=SESSION,
    ),
    case(
        "session-without-session-policy",
        ALLOWED,
        identity=[allow("s3:*", "*")],
        principal=SESSION,
    ),
    case(
        "session-boundary-checked-first",
        NO_BOUNDARY,
        identity=[allow("s3:*", "*")],
        boundary=[allow("iam:*", "*")],
        session=[allow("iam:*", "*")],
        principal=SESSION,
    ),
    case(
        "session-role-grant-capped",
        NO_SESSION,
        session=[allow("s3:PutObject", "*")],
        resource_policy=[allow(Principal={"AWS": ROLE_ARN})],
        principal=SESSION,
    ),
    case(
        "session-role-grant-without-session-policy",
        ALLOWED,
        resource_policy=[allow(Principal={"AWS": ROLE_ARN})],
        principal=SESSION,
    ),
    case(
        "session-arn-grant-not-capped",
        ALLOWED,
        session=[allow("s3:PutObject", "*")],
        resource_policy=[allow(Principal={"AWS": SESSION.arn})],
        principal=SESSION,
    ),
    case(
        "session-user-grant-does-not-name-session",
        NO_IDENTITY,
        resource_policy=[allow(Principal=ALICE_AWS)],
        principal=SESSION,
    ),
]

ASSUME = "sts:AssumeRole"


def trust_case(name: str, expected: str, **fields: object) -> object:
    """A case for sts:AssumeRole on the role, whose trust policy is the resource policy."""
    return case(name, expected, action=ASSUME, resource=ROLE_ARN, **fields)


TRUST = [
    trust_case(
        "trust-names-user", ALLOWED, trust=[allow(ASSUME, None, Principal=ALICE_AWS)]
    ),
    trust_case(
        "trust-names-account-needs-identity",
        NO_IDENTITY,
        trust=[allow(ASSUME, None, Principal={"AWS": ACCOUNT})],
    ),
    trust_case(
        "trust-names-account-with-identity",
        ALLOWED,
        trust=[allow(ASSUME, None, Principal={"AWS": ACCOUNT})],
        identity=[allow(ASSUME, ROLE_ARN)],
    ),
    trust_case(
        "trust-must-allow-even-with-identity",
        NO_RESOURCE,
        trust=[allow(ASSUME, None, Principal={"AWS": BOB.arn})],
        identity=[allow(ASSUME, "*")],
    ),
    trust_case(
        "trust-service-only",
        NO_RESOURCE,
        trust=[allow(ASSUME, None, Principal={"Service": "sagemaker.amazonaws.com"})],
        identity=[allow(ASSUME, "*")],
    ),
    trust_case(
        "trust-explicit-deny",
        DENY_RESOURCE,
        trust=[
            allow(ASSUME, None, Principal={"AWS": ACCOUNT}),
            deny(ASSUME, None, Principal=ALICE_AWS),
        ],
        identity=[allow(ASSUME, "*")],
    ),
    trust_case(
        "trust-condition-external-id",
        ALLOWED,
        trust=[
            allow(
                ASSUME,
                None,
                Principal=ALICE_AWS,
                **when("StringEquals", "sts:ExternalId", "x1"),
            )
        ],
        context={"sts:ExternalId": ["x1"]},
    ),
    trust_case(
        "trust-condition-external-id-missing",
        NO_RESOURCE,
        trust=[
            allow(
                ASSUME,
                None,
                Principal=ALICE_AWS,
                **when("StringEquals", "sts:ExternalId", "x1"),
            )
        ],
    ),
    trust_case(
        "trust-role-chaining-by-role",
        ALLOWED,
        trust=[allow(ASSUME, None, Principal={"AWS": ROLE_ARN})],
        principal=SESSION,
    ),
    trust_case(
        "trust-2008-version",
        ALLOWED,
        trust=[allow(ASSUME, None, Principal=ALICE_AWS)],
        version="2008-10-17",
    ),
    trust_case(
        "trust-identity-deny",
        DENY_IDENTITY,
        trust=[allow(ASSUME, None, Principal=ALICE_AWS)],
        identity=[deny(ASSUME, "*")],
    ),
]

CASES = (
    ACTIONS
    + RESOURCES
    + EFFECTS
    + STRING
    + NUMERIC
    + DATES
    + OTHER_OPERATORS
    + COMBINATIONS
    + SETS
    + VARIABLES
    + BUCKET_POLICIES
    + BOUNDARIES
    + SESSIONS
    + TRUST
)


def outcome(spec: Case) -> str:
    decision = evaluate(spec.request(), spec.policies())
    return (
        f"{decision.effect}:{decision.policy_kind}"
        if decision.policy_kind
        else decision.effect
    )


def test_the_table_has_at_least_150_cases() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize("spec", CASES)
def test_decision(spec: Case) -> None:
    assert outcome(spec) == spec.expected
