"""What policy evaluation costs: authorized GetObject as an IAM user vs as root, one run.

Run from the repository root, with nothing else busy on the machine::

    python bench/iam.py [--count 2000] [--reps 5] [--out bench/README.md]

One Shipyard server (default settings) on a free loopback port holds a bucket with one
1 KiB object. Two boto3 clients, configured identically, read it back ``--count`` times
in a row, alternating rep by rep so both see the same machine state:

* **root**: the account's root key, which the authorizer lets through without evaluating;
* **user**: an IAM user whose managed policy has 20 statements (Allow and Deny, with
  NotAction, wildcards and conditions); only the last one allows the read, so every
  statement is evaluated on every request, and the bucket carries a 3-statement policy
  that is evaluated too.

Reported: median requests/s of each and their ratio (the target: the user's rate is at
least 90% of root's, i.e. evaluation adds < 10% to request time), plus the policy
engine's own time per decision for the same policies, measured in-process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from s3 import machine_lines, write_between_markers

from shipyard.iam.policy import (
    AuthorizationRequest,
    NamedPolicy,
    PolicySet,
    PolicyType,
    Principal,
    evaluate,
    parse_policy,
)
from shipyard.testing.identities import create_user
from shipyard.testing.server import RunningServer, start_server

BUCKET = "bench-iam"
KEY = "data/sample.bin"
START_MARKER = "<!-- iam-results:start -->"
END_MARKER = "<!-- iam-results:end -->"
TARGET = 0.90


def twenty_statement_policy(bucket: str) -> dict[str, Any]:
    """19 statements that do not decide a GetObject of ``KEY``, then the one that allows it."""
    statements: list[dict[str, Any]] = []
    for index in range(6):
        statements.append(
            {
                "Sid": f"Other{index}",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject", "sagemaker:Describe*"],
                "Resource": f"arn:aws:s3:::{bucket}/team-{index}/*",
            }
        )
    for index in range(6):
        statements.append(
            {
                "Sid": f"Tagged{index}",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {f"aws:PrincipalTag/team-{index}": "yes"}},
            }
        )
    for index in range(4):
        statements.append(
            {
                "Sid": f"DenyElsewhere{index}",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::locked-{index}/*",
            }
        )
    statements += [
        {
            "Sid": "DenyIam",
            "Effect": "Deny",
            "NotAction": ["s3:*", "sts:*"],
            "Resource": "*",
        },
        {
            "Sid": "DenyInsecureOffice",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}},
        },
        {
            "Sid": "ListHome",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
        },
        {
            "Sid": "ReadData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/data/*",
        },
    ]
    assert len(statements) == 20
    return {"Version": "2012-10-17", "Statement": statements}


def bucket_policy(bucket: str) -> dict[str, Any]:
    """A typical bucket policy: TLS-only writes, one named reader, a public prefix."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"s3:x-amz-acl": "public"},
                },
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/partner"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/shared/*",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/www/*",
            },
        ],
    }


def get_rate(server: RunningServer, client: Any, count: int) -> tuple[float, float]:
    """Sequential GETs of ``KEY``, bodies read: (requests/s, server CPU µs per request)."""
    started, cpu = time.perf_counter(), server.cpu_seconds()
    for _ in range(count):
        client.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    return count / (time.perf_counter() - started), (server.cpu_seconds() - cpu) / count * 1e6


def engine_microseconds(identity: dict[str, Any], resource_policy: dict[str, Any]) -> float:
    """The policy engine's time for one GetObject decision with these policies, in µs."""
    principal = Principal("arn:aws:iam::123456789012:user/bench", "123456789012", "user")
    policies = PolicySet(
        identity=(NamedPolicy(parse_policy(identity, PolicyType.IDENTITY), "inline", "user"),),
        resource=NamedPolicy(parse_policy(resource_policy, PolicyType.RESOURCE), "bucket", "resource"),
    )
    context = {
        "aws:SourceIp": ("127.0.0.1",),
        "aws:SecureTransport": ("false",),
        "aws:username": ("bench",),
        "aws:PrincipalArn": (principal.arn,),
    }
    request = AuthorizationRequest(principal, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{KEY}", context)
    assert evaluate(request, policies).allowed
    runs = 20_000
    best = min(timeit.repeat(lambda: evaluate(request, policies), number=runs, repeat=5))
    return best / runs * 1e6


def run(count: int, reps: int, scratch: Path) -> dict[str, Any]:
    with start_server(scratch / "server") as server:
        root = server.client("s3")
        root.create_bucket(Bucket=BUCKET)
        root.put_object(Bucket=BUCKET, Key=KEY, Body=bytes(range(256)) * 4)
        root.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy(BUCKET)))
        # 20 statements exceed an inline user policy's 2,048 characters: a managed policy holds them.
        policy_arn = server.client("iam").create_policy(
            PolicyName="bench-twenty-statements", PolicyDocument=json.dumps(twenty_statement_policy(BUCKET))
        )["Policy"]["Arn"]
        user = create_user(server, prefix="bench", managed=(policy_arn,))
        as_user = server.client("s3", credentials=user.credentials)
        for client in (root, as_user):
            get_rate(server, client, 50)  # warm-up: connections, caches
        rates: dict[str, list[float]] = {"root": [], "user": []}
        cpu: dict[str, list[float]] = {"root": [], "user": []}
        for rep in range(reps):
            order = [("root", root), ("user", as_user)] if rep % 2 == 0 else [("user", as_user), ("root", root)]
            for label, client in order:
                rate, cpu_us = get_rate(server, client, count)
                rates[label].append(rate)
                cpu[label].append(cpu_us)
                print(f"  rep {rep + 1}/{reps} {label}: {rate:,.0f}/s, {cpu_us:,.0f} µs server CPU", file=sys.stderr)
        memory = f"peak server RSS {server.peak_rss_bytes() / 2**20:,.0f} MiB"
    return {
        "rates": rates,
        "cpu": cpu,
        "engine_us": engine_microseconds(twenty_statement_policy(BUCKET), bucket_policy(BUCKET)),
        "server": memory,
    }


def report(results: dict[str, Any], count: int, reps: int) -> str:
    root = statistics.median(results["rates"]["root"])
    user = statistics.median(results["rates"]["user"])
    ratio = user / root
    root_cpu = statistics.median(results["cpu"]["root"])
    user_cpu = statistics.median(results["cpu"]["user"])
    lines = [
        f"GetObject of a 1 KiB object, {count:,} sequential requests per rep, {reps} reps alternating, medians:",
        "",
        "| caller | requests/s | runs |",
        "|---|---:|---|",
        f"| root (no evaluation) | {root:,.0f} | {', '.join(f'{r:,.0f}' for r in results['rates']['root'])} |",
        (
            f"| IAM user, 20-statement policy + bucket policy | {user:,.0f} | "
            f"{', '.join(f'{r:,.0f}' for r in results['rates']['user'])} |"
        ),
        "",
        (
            f"- user / root: **{ratio:.3f}** (request time +{(1 / ratio - 1) * 100:.1f}%); target ≥ {TARGET:.2f}: "
            f"{'met' if ratio >= TARGET else '**missed**'}"
        ),
        (
            f"- server CPU per request (medians): root {root_cpu:,.0f} µs, user {user_cpu:,.0f} µs "
            f"(+{(user_cpu / root_cpu - 1) * 100:.1f}%); the boto3 client, not the server, bounds the rate here"
        ),
        f"- policy engine alone: {results['engine_us']:.1f} µs per decision (same policies, in-process)",
        f"- {results['server']}",
        *machine_lines(),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="GETs per rep and caller")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--out",
        type=Path,
        help="markdown file to write the results into (between markers)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-iam-") as scratch:
        results = run(args.count, args.reps, Path(scratch))
    text = report(results, args.count, args.reps)
    print(text)
    if args.out:
        write_between_markers(args.out, text, start=START_MARKER, end=END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
