"""CloudWatch dashboards through boto3 on both metadata backends: put, get, list with a
prefix, delete, the body checks, tags and IAM policies on dashboard ARNs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow, create_user

BODY = json.dumps(
    {
        "widgets": [
            {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": "# Made by a script"}},
            {
                "type": "metric",
                "x": 0,
                "y": 2,
                "width": 12,
                "height": 6,
                "properties": {"metrics": [["AWS/SageMaker", "Invocations", "EndpointName", "ep"]], "region": "us-east-1"},
            },
        ]
    },
    indent=1,  # kept as sent, whitespace and all
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cloudwatch(server: RunningServer) -> Any:
    return server.client("cloudwatch")


def test_put_get_list_and_delete(server: RunningServer, cloudwatch: Any) -> None:
    team = unique("team")
    names = [f"{team}_a", f"{team}_b", f"{team}xc"]
    for name in names:
        assert cloudwatch.put_dashboard(DashboardName=name, DashboardBody=BODY)["DashboardValidationMessages"] == []
    account = server.client("sts").get_caller_identity()["Account"]
    got = cloudwatch.get_dashboard(DashboardName=names[0])
    assert got["DashboardBody"] == BODY
    assert got["DashboardArn"] == f"arn:aws:cloudwatch::{account}:dashboard/{names[0]}"

    # "_" is a character of the prefix, not a wildcard.
    listed = cloudwatch.list_dashboards(DashboardNamePrefix=f"{team}_")["DashboardEntries"]
    assert [entry["DashboardName"] for entry in listed] == names[:2]
    assert all(entry["Size"] == len(BODY.encode()) and entry["LastModified"].tzinfo for entry in listed)
    assert [e["DashboardName"] for e in cloudwatch.list_dashboards(DashboardNamePrefix=team)["DashboardEntries"]] == names

    # An update replaces the body.
    smaller = json.dumps({"widgets": []})
    cloudwatch.put_dashboard(DashboardName=names[0], DashboardBody=smaller)
    assert cloudwatch.get_dashboard(DashboardName=names[0])["DashboardBody"] == smaller

    # A missing name is an error, and the others are deleted all the same (as documented).
    with pytest.raises(ClientError) as missing:
        cloudwatch.delete_dashboards(DashboardNames=[names[0], unique("nothing")])
    assert error_of(missing) == ("ResourceNotFound", 404)
    cloudwatch.delete_dashboards(DashboardNames=names[1:])
    assert cloudwatch.list_dashboards(DashboardNamePrefix=team)["DashboardEntries"] == []
    with pytest.raises(ClientError) as gone:
        cloudwatch.get_dashboard(DashboardName=names[0])
    assert error_of(gone) == ("ResourceNotFound", 404)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("{not json", "/"),
        ("[]", "/"),
        ('{"widgets": {}}', "/widgets"),
        ('{"widgets": [{"type": "pie", "properties": {}}]}', "/widgets/0/type"),
        ('{"widgets": [{"type": "text", "properties": {}}]}', "/widgets/0/properties/markdown"),
        ('{"widgets": [{"type": "metric", "width": 25, "properties": {"metrics": []}}]}', "/widgets/0/width"),
        ('{"widgets": [{"type": "metric", "x": -1, "properties": {"metrics": []}}]}', "/widgets/0/x"),
        ('{"widgets": [{"type": "alarm"}]}', "/widgets/0/properties"),
    ],
)
def test_a_body_off_the_documented_structure_is_refused(cloudwatch: Any, body: str, path: str) -> None:
    name = unique("broken")
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)
    assert error_of(refused) == ("InvalidParameterInput", 400)
    assert f"{path}:" in refused.value.response["Error"]["Message"]
    assert cloudwatch.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"] == []


def test_bad_names_and_tokens(cloudwatch: Any) -> None:
    for call, code in (
        (lambda: cloudwatch.put_dashboard(DashboardName="with space", DashboardBody=BODY), "InvalidParameterInput"),
        (lambda: cloudwatch.list_dashboards(DashboardNamePrefix="a/b"), "InvalidParameterValue"),
        (lambda: cloudwatch.list_dashboards(NextToken="!!"), "InvalidParameterValue"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_of(refused) == (code, 400)


def test_tags_are_set_at_creation_and_by_arn(cloudwatch: Any) -> None:
    name = unique("tagged")
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=BODY, Tags=[{"Key": "team", "Value": "ml"}])
    arn = cloudwatch.get_dashboard(DashboardName=name)["DashboardArn"]
    # Tags given when updating are ignored, as CloudWatch documents.
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=BODY, Tags=[{"Key": "team", "Value": "ops"}])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "stage", "Value": "prod"}])
    cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "stage", "Value": "prod"}]
    missing = arn.replace(name, unique("missing"))
    with pytest.raises(ClientError) as refused:
        cloudwatch.list_tags_for_resource(ResourceARN=missing)
    assert error_of(refused) == ("ResourceNotFoundException", 404)


def test_iam_policies_scope_dashboards_by_name(server: RunningServer) -> None:
    team = unique("team")
    user = create_user(server, policy=allow(["cloudwatch:PutDashboard", "cloudwatch:GetDashboard"], f"arn:aws:cloudwatch::*:dashboard/{team}-*"))
    cloudwatch = server.client("cloudwatch", credentials=user.credentials)
    cloudwatch.put_dashboard(DashboardName=f"{team}-main", DashboardBody=BODY)
    assert cloudwatch.get_dashboard(DashboardName=f"{team}-main")["DashboardBody"] == BODY
    for call in (
        lambda: cloudwatch.put_dashboard(DashboardName=unique("other"), DashboardBody=BODY),
        lambda: cloudwatch.delete_dashboards(DashboardNames=[f"{team}-main"]),
    ):
        with pytest.raises(ClientError) as denied:
            call()
        assert error_of(denied) == ("AccessDeniedException", 400)  # the json protocol's denial
