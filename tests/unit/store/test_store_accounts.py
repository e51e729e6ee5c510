"""The account and its access keys."""

from __future__ import annotations

import pytest

from shipyard.errors import AwsError
from shipyard.store.accounts import AccountStore
from shipyard.store.database import Database

pytestmark = pytest.mark.anyio


async def test_the_account_is_made_once(database: Database) -> None:
    store = AccountStore(database)
    account = await store.ensure_account()
    assert len(account.id) == 12 and account.id.isdigit()
    assert await store.ensure_account() == account
    assert await store.ensure_account("999999999999") == account  # the first one stays
    assert account.root_arn == f"arn:aws:iam::{account.id}:root"
    with pytest.raises(ValueError):
        await store.ensure_account("12345")


async def test_root_key_is_made_at_first_start(database: Database) -> None:
    store = AccountStore(database)
    root = await store.ensure_root_key()
    assert root.access_key_id.startswith("AKIA") and len(root.access_key_id) == 20
    assert len(root.secret_access_key) == 40 and root.active
    assert await store.ensure_root_key() == root
    assert await AccountStore(database).get_access_key(root.access_key_id) == root  # persisted


async def test_configured_root_key(database: Database) -> None:
    store = AccountStore(database)
    root = await store.ensure_root_key(access_key_id="AKIAEXAMPLEROOTKEY01", secret_access_key="s" * 40)
    assert (root.access_key_id, root.secret_access_key) == ("AKIAEXAMPLEROOTKEY01", "s" * 40)
    assert await store.ensure_root_key(access_key_id="AKIAEXAMPLEROOTKEY01", secret_access_key="s" * 40) == root
    assert root.principal_arn == (await store.ensure_account()).root_arn


async def test_key_lifecycle(database: Database) -> None:
    store = AccountStore(database)
    user = "arn:aws:iam::000000000000:user/alice"
    first = await store.create_access_key(user)
    second = await store.create_access_key(user)
    assert [k.access_key_id for k in await store.list_access_keys(user)] == sorted(
        [first.access_key_id, second.access_key_id], key=lambda k: (k != first.access_key_id, k)
    )
    assert await store.get_access_key(first.access_key_id) == first
    inactive = await store.set_access_key_status(first.access_key_id, "Inactive")
    assert not inactive.active and (await store.get_access_key(first.access_key_id)).status == "Inactive"
    await store.delete_access_key(first.access_key_id)
    assert await store.get_access_key(first.access_key_id) is None
    assert await store.get_access_key("AKIADOESNOTEXIST0000") is None
    for call in (store.delete_access_key(first.access_key_id), store.set_access_key_status("AKIAX", "Active")):
        with pytest.raises(AwsError) as raised:
            await call
        assert (raised.value.code, raised.value.status) == ("NoSuchEntity", 404)
    with pytest.raises(AwsError):
        await store.set_access_key_status(second.access_key_id, "Disabled")
