"""Buckets: names, creation (and the us-east-1 rule), listing, deletion, tags, policy, configs."""

from __future__ import annotations

import pytest
from store_support import blob_files, chunks

from shipyard.errors import AwsError
from shipyard.store.naming import validate_bucket_name
from shipyard.store.objects import S3Store

pytestmark = pytest.mark.anyio

OWNER = "111122223333"


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 63, "my-bucket", "my.bucket.name", "1bucket", "bucket1", "a-b.c-d", "xn-bucket", "s3alias-x"],
)
def test_valid_bucket_names(name: str) -> None:
    validate_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "My-Bucket",
        "my_bucket",
        "-bucket",
        "bucket-",
        ".bucket",
        "bucket.",
        "my..bucket",
        "192.168.5.4",
        "xn--bucket",
        "sthree-bucket",
        "sthree-configurator",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bucket.mrap",
        "bucket--x-s3",
        "bucket--table-s3",
        "bücket",
        "with space",
        "",
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(AwsError) as raised:
        validate_bucket_name(name)
    assert (raised.value.code, raised.value.status, raised.value.fields) == (
        "InvalidBucketName",
        400,
        {"BucketName": name},
    )


async def test_create_get_and_list(s3: S3Store) -> None:
    created = await s3.create_bucket(name="zeta", region="eu-west-1", owner=OWNER)
    assert created.created and created.bucket.name == "zeta" and created.bucket.versioning is None
    await s3.create_bucket(name="alpha", region="us-east-1", owner=OWNER)
    await s3.create_bucket(name="alphabet", region="us-east-1", owner=OWNER)
    bucket = await s3.get_bucket("zeta")
    assert (bucket.region, bucket.owner, bucket.created) == ("eu-west-1", OWNER, created.bucket.created)
    assert [b.name for b in await s3.list_buckets()] == ["alpha", "alphabet", "zeta"]
    assert [b.name for b in await s3.list_buckets(prefix="alpha")] == ["alpha", "alphabet"]
    assert [b.name for b in await s3.list_buckets(after="alpha", limit=1)] == ["alphabet"]
    assert [b.name for b in await s3.list_buckets(region="eu-west-1")] == ["zeta"]
    with pytest.raises(AwsError) as raised:
        await s3.get_bucket("missing")
    assert (raised.value.code, raised.value.status) == ("NoSuchBucket", 404)


async def test_existing_bucket(s3: S3Store) -> None:
    await s3.create_bucket(name="east", region="us-east-1", owner=OWNER)
    again = await s3.create_bucket(name="east", region="us-east-1", owner=OWNER)
    assert not again.created and again.bucket.name == "east"  # AWS answers 200 in us-east-1
    with pytest.raises(AwsError) as raised:
        await s3.create_bucket(name="east", region="eu-west-1", owner=OWNER)
    assert (raised.value.code, raised.value.status) == ("BucketAlreadyOwnedByYou", 409)
    await s3.create_bucket(name="west", region="eu-west-1", owner=OWNER)
    with pytest.raises(AwsError) as raised:
        await s3.create_bucket(name="west", region="eu-west-1", owner=OWNER)
    assert raised.value.code == "BucketAlreadyOwnedByYou"


async def test_delete_only_when_no_version_remains(s3: S3Store, blobs) -> None:
    await s3.create_bucket(name="full", region="us-east-1", owner=OWNER)
    await s3.put_bucket_versioning("full", "Enabled")
    version = await s3.put_object(bucket="full", key="k", body=chunks(b"x"))
    await s3.delete_object(bucket="full", key="k")
    with pytest.raises(AwsError) as raised:
        await s3.delete_bucket("full")
    assert (raised.value.code, raised.value.status) == ("BucketNotEmpty", 409)
    await s3.delete_object(bucket="full", key="k", version_id=version.version_id)
    with pytest.raises(AwsError) as raised:
        await s3.delete_bucket("full")  # the delete marker still counts
    assert raised.value.code == "BucketNotEmpty"
    marker = (await s3.list_object_versions(bucket="full")).versions[0]
    await s3.delete_object(bucket="full", key="k", version_id=marker.version_id)

    upload = await s3.create_multipart_upload(bucket="full", key="u", initiator=OWNER)
    await s3.upload_part(bucket="full", key="u", upload_id=upload.upload_id, part_number=1, body=chunks(b"part"))
    await s3.put_bucket_tags("full", {"a": "b"})
    await s3.delete_bucket("full")  # uploads in progress do not count, and go with it
    assert blob_files(blobs) == set()
    with pytest.raises(AwsError) as raised:
        await s3.delete_bucket("full")
    assert raised.value.code == "NoSuchBucket"
    await s3.create_bucket(name="full", region="us-east-1", owner=OWNER)  # the name is free again
    with pytest.raises(AwsError) as raised:
        await s3.get_bucket_tags("full")
    assert raised.value.code == "NoSuchTagSet"


async def test_tags(s3: S3Store) -> None:
    await s3.create_bucket(name="tagged", region="us-east-1", owner=OWNER)
    with pytest.raises(AwsError) as raised:
        await s3.get_bucket_tags("tagged")
    assert (raised.value.code, raised.value.status) == ("NoSuchTagSet", 404)
    await s3.put_bucket_tags("tagged", {"env": "dev", "ünï": "cödé"})
    assert await s3.get_bucket_tags("tagged") == {"env": "dev", "ünï": "cödé"}
    await s3.put_bucket_tags("tagged", {"env": "prod"})
    assert await s3.get_bucket_tags("tagged") == {"env": "prod"}
    await s3.delete_bucket_tags("tagged")
    await s3.delete_bucket_tags("tagged")
    with pytest.raises(AwsError):
        await s3.get_bucket_tags("tagged")
    with pytest.raises(AwsError) as raised:
        await s3.put_bucket_tags("tagged", {f"k{i}": "v" for i in range(51)})
    assert raised.value.code == "InvalidTag"
    with pytest.raises(AwsError) as raised:
        await s3.put_bucket_tags("missing", {})
    assert raised.value.code == "NoSuchBucket"


async def test_policy_and_other_configs(s3: S3Store) -> None:
    await s3.create_bucket(name="policed", region="us-east-1", owner=OWNER)
    with pytest.raises(AwsError) as raised:
        await s3.get_bucket_policy("policed")
    assert (raised.value.code, raised.value.status) == ("NoSuchBucketPolicy", 404)
    policy = '{"Version": "2012-10-17", "Statement": []}'
    await s3.put_bucket_policy("policed", policy)
    assert await s3.get_bucket_policy("policed") == policy
    await s3.delete_bucket_policy("policed")
    with pytest.raises(AwsError):
        await s3.get_bucket_policy("policed")

    assert await s3.get_bucket_config("policed", "cors") is None
    await s3.put_bucket_config("policed", "cors", "<CORSConfiguration/>")
    await s3.put_bucket_config("policed", "cors", "<CORSConfiguration><CORSRule/></CORSConfiguration>")
    assert await s3.get_bucket_config("policed", "cors") == "<CORSConfiguration><CORSRule/></CORSConfiguration>"
    await s3.delete_bucket_config("policed", "cors")
    assert await s3.get_bucket_config("policed", "cors") is None
    with pytest.raises(AwsError) as raised:
        await s3.get_bucket_config("missing", "cors")
    assert raised.value.code == "NoSuchBucket"
