"""Decisions as Simulate* and AccessDenied report them: reasons, messages, statements."""

from __future__ import annotations

import json

import pytest
from policy_cases import ALICE, ANONYMOUS, OBJECT, ROLE_ARN, SESSION, allow, deny, named

from shipyard.iam.policy import (
    AuthorizationRequest,
    Decision,
    Effect,
    NamedPolicy,
    PolicySet,
    PolicyType,
    Position,
    Principal,
    denial_message,
    evaluate,
    parse_policy,
)


@pytest.mark.parametrize(
    ("effect", "kind", "reason"),
    [
        (
            Effect.IMPLICIT_DENY,
            "identity",
            "because no identity-based policy allows the s3:GetObject action",
        ),
        (
            Effect.IMPLICIT_DENY,
            "resource",
            "because no resource-based policy allows the s3:GetObject action",
        ),
        (
            Effect.IMPLICIT_DENY,
            "boundary",
            "because no permissions boundary allows the s3:GetObject action",
        ),
        (
            Effect.IMPLICIT_DENY,
            "session",
            "because no session policy allows the s3:GetObject action",
        ),
        (
            Effect.EXPLICIT_DENY,
            "identity",
            "with an explicit deny in an identity-based policy",
        ),
        (
            Effect.EXPLICIT_DENY,
            "resource",
            "with an explicit deny in a resource-based policy",
        ),
        (
            Effect.EXPLICIT_DENY,
            "boundary",
            "with an explicit deny in a permissions boundary",
        ),
        (Effect.EXPLICIT_DENY, "session", "with an explicit deny in a session policy"),
        (Effect.ALLOWED, None, ""),
    ],
)
def test_reason_wording(effect: Effect, kind: str | None, reason: str) -> None:
    decision = Decision(effect, kind, (), ())
    assert decision.reason("s3:GetObject") == reason
    assert decision.allowed is (effect is Effect.ALLOWED)


def test_denial_message_of_a_user_quotes_s3_resources() -> None:
    request = AuthorizationRequest(
        Principal("arn:aws:iam::123456789012:user/analyst", "123456789012", "user"),
        "s3:PutObject",
        "arn:aws:s3:::datasets/x.csv",
        {},
    )
    decision = evaluate(request, PolicySet(identity=(named([allow()]),)))
    assert denial_message(request, decision) == (
        "User: arn:aws:iam::123456789012:user/analyst is not authorized to perform: "
        's3:PutObject on resource: "arn:aws:s3:::datasets/x.csv" because no '
        "identity-based policy allows the s3:PutObject action"
    )


def test_denial_message_of_anonymous() -> None:
    request = AuthorizationRequest(ANONYMOUS, "s3:GetObject", OBJECT, {})
    decision = evaluate(request, PolicySet())
    assert denial_message(request, decision) == (
        'User: anonymous is not authorized to perform: s3:GetObject on resource: "'
        + OBJECT
        + '" because no resource-based policy allows the s3:GetObject action'
    )


def test_denial_message_outside_s3_prints_the_resource_bare() -> None:
    request = AuthorizationRequest(SESSION, "sts:AssumeRole", ROLE_ARN, {})
    decision = evaluate(request, PolicySet(identity=(named([deny("sts:*", "*")]),)))
    assert denial_message(request, decision) == (
        f"User: {SESSION.arn} is not authorized to perform: sts:AssumeRole on resource: "
        f"{ROLE_ARN} with an explicit deny in an identity-based policy"
    )


def test_matched_statements_carry_source_and_text_positions() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Other",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": "*",
                },
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                },
            ],
        },
        indent=2,
    )
    policy = NamedPolicy(parse_policy(text, PolicyType.IDENTITY), "ReadData", "user")
    decision = evaluate(
        AuthorizationRequest(ALICE, "s3:GetObject", OBJECT, {}),
        PolicySet(identity=(policy,)),
    )
    (matched,) = decision.matched
    assert (matched.source_id, matched.source_type, matched.sid, matched.index) == (
        "ReadData",
        "user",
        "Read",
        1,
    )
    lines = text.splitlines()
    assert lines[matched.start.line - 1][matched.start.column - 1] == "{"
    assert lines[matched.end.line - 1][matched.end.column - 2] == "}"
    assert '"Read"' in "\n".join(lines[matched.start.line - 1 : matched.end.line])
    assert matched.start == Position(10, 5)


def test_positions_of_a_single_statement_object_on_one_line() -> None:
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
    (statement,) = parse_policy(text, PolicyType.IDENTITY).statements
    assert (statement.start, statement.end) == (Position(1, 37), Position(1, 86))


def test_mapping_documents_have_no_positions() -> None:
    (statement,) = parse_policy(
        {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
        PolicyType.IDENTITY,
    ).statements
    assert (statement.start, statement.end, statement.index) == (None, None, 0)


def test_explicit_deny_reports_every_denying_statement() -> None:
    policies = PolicySet(
        identity=(named([allow(), deny(), deny("s3:*", "*")], source="inline"),),
        boundary=named([allow("*", "*"), deny()], source="boundary"),
    )
    decision = evaluate(
        AuthorizationRequest(ALICE, "s3:GetObject", OBJECT, {}), policies
    )
    assert decision.effect is Effect.EXPLICIT_DENY
    assert decision.policy_kind == "identity"
    assert [(m.source_id, m.index) for m in decision.matched] == [
        ("inline", 1),
        ("inline", 2),
        ("boundary", 1),
    ]


def test_allowed_reports_the_statements_of_every_layer() -> None:
    policies = PolicySet(
        identity=(named([allow()], source="inline"),),
        boundary=named([allow("s3:*", "*")], source="boundary"),
    )
    decision = evaluate(
        AuthorizationRequest(ALICE, "s3:GetObject", OBJECT, {}), policies
    )
    assert decision.allowed
    assert [m.source_id for m in decision.matched] == ["inline", "boundary"]


def test_implicit_deny_reports_no_statement() -> None:
    decision = evaluate(
        AuthorizationRequest(ALICE, "s3:GetObject", OBJECT, {}), PolicySet()
    )
    assert (decision.effect, decision.matched) == (Effect.IMPLICIT_DENY, ())


def test_missing_context_keys_are_reported_once_as_written() -> None:
    statements = [
        allow(
            Condition={
                "StringEquals": {"aws:PrincipalTag/Team": "nlp", "s3:prefix": "a"}
            }
        ),
        allow(Condition={"StringLike": {"aws:PrincipalTag/Team": "n*"}}),
        allow(Condition={"Null": {"aws:TokenIssueTime": "false"}}),
    ]
    request = AuthorizationRequest(ALICE, "s3:GetObject", OBJECT, {"s3:prefix": "b"})
    decision = evaluate(request, PolicySet(identity=(named(statements),)))
    assert decision.effect is Effect.IMPLICIT_DENY
    assert decision.missing_context_keys == ("aws:PrincipalTag/Team",)


def test_request_context_is_normalised() -> None:
    request = AuthorizationRequest(
        ALICE, "s3:GetObject", OBJECT, {"S3:Prefix": "a/", "K:V": ["x"]}
    )
    assert request.context == {"s3:prefix": ("a/",), "k:v": ("x",)}


@pytest.mark.parametrize(
    ("principal_element", "identity", "allowed", "trusted"),
    [
        ({"AWS": ALICE.arn}, (), True, True),
        ({"AWS": "123456789012"}, (), False, True),
        ({"AWS": "123456789012"}, (named([allow("sts:AssumeRole", "*")]),), True, True),
        ({"AWS": "999999999999"}, (), False, False),
        ({"Service": "sagemaker.amazonaws.com"}, (), False, False),
    ],
)
def test_trusted_tells_whether_the_trust_policy_names_the_caller(
    principal_element: dict[str, str],
    identity: tuple[NamedPolicy, ...],
    allowed: bool,
    trusted: bool,
) -> None:
    trust = named(
        [allow("sts:AssumeRole", None, Principal=principal_element)], PolicyType.TRUST
    )
    request = AuthorizationRequest(ALICE, "sts:AssumeRole", ROLE_ARN, {})
    decision = evaluate(request, PolicySet(identity=identity, resource=trust))
    assert (decision.allowed, decision.trusted) == (allowed, trusted)


def test_an_explicit_deny_is_never_trusted() -> None:
    trust = named(
        [
            allow("sts:AssumeRole", None, Principal={"AWS": ALICE.arn}),
            deny("sts:AssumeRole", None, Principal={"AWS": ALICE.arn}),
        ],
        PolicyType.TRUST,
    )
    request = AuthorizationRequest(ALICE, "sts:AssumeRole", ROLE_ARN, {})
    decision = evaluate(request, PolicySet(resource=trust))
    assert (decision.effect, decision.trusted) == (Effect.EXPLICIT_DENY, False)
