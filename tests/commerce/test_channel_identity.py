"""A channel's code and kind are fixed once it has orders: admin shows them read-only, the
service refuses the change, and so does the database (any other path)."""

import pytest
from django.db import IntegrityError, connection, transaction

from retail.channels import services
from retail.channels.domain import ChannelIdentityFixed
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from tests.commerce.conftest import placed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def used(web, stocked_sku) -> Channel:
    placed_order(web, stocked_sku)
    return Channel.objects.get(code="web")


def stored(channel: Channel) -> tuple[str, str, str]:
    return Channel.objects.filter(pk=channel.pk).values_list("code", "kind", "name").get()


def test_admin_shows_code_and_kind_read_only_and_ignores_them_in_a_post(admin_client, used):
    page = admin_client.get(f"/admin/channels/channel/{used.pk}/change/").content.decode()
    assert 'name="code"' not in page
    assert 'name="kind"' not in page
    assert 'name="name"' in page

    response = admin_client.post(
        f"/admin/channels/channel/{used.pk}/change/",
        {"code": "renamed", "kind": "pos", "name": "Web shop", "is_active": "on",
         "created_at_0": "2026-01-01", "created_at_1": "00:00:00", "change_reason": "rebrand"},
    )  # fmt: skip

    assert response.status_code == 302, response.content
    assert stored(used) == ("web", "web", "Web shop")
    assert used.history.first().history_change_reason == "rebrand"  # type: ignore[attr-defined]


def test_admin_deletes_no_channel(admin_client, used):
    assert (
        admin_client.post(f"/admin/channels/channel/{used.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Channel.objects.filter(pk=used.pk).exists()


def test_a_channel_without_orders_may_still_be_recoded_in_admin(admin_client):
    fresh = ChannelFactory(code="kiosk", kind=Channel.Kind.POS)
    page = admin_client.get(f"/admin/channels/channel/{fresh.pk}/change/").content.decode()
    assert 'name="code"' in page
    services.channel_save(channel=Channel(pk=fresh.pk, code="kiosk2", name="K", kind="app"))
    assert stored(fresh) == ("kiosk2", "app", "K")


@pytest.mark.parametrize("change", [{"code": "web2"}, {"kind": "pos"}])
def test_the_service_refuses_a_new_code_or_kind(used, change):
    before = stored(used)
    for field, value in change.items():
        setattr(used, field, value)
    with pytest.raises(ChannelIdentityFixed):
        services.channel_save(channel=used)
    assert stored(used) == before


def test_the_service_still_saves_other_fields(used):
    used.name = "Web shop"
    services.channel_save(channel=used)
    assert stored(used) == ("web", "web", "Web shop")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE channels_channel SET code = 'web2' WHERE id = %s",
        "UPDATE channels_channel SET kind = 'pos' WHERE id = %s",
        "DELETE FROM channels_channel WHERE id = %s",
    ],
)
def test_the_database_refuses_it_on_every_other_path(used, statement):
    before = stored(used)
    refused = pytest.raises(IntegrityError, match="has orders")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [used.pk])
    assert stored(used) == before
