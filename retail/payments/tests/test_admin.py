"""The payments back office renders and its actions go through services."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from retail.payments.models import UnmatchedWebhook
from retail.payments.tests.factories import PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw-123456"))
    return client


@pytest.mark.parametrize("model", ["payment", "refund", "partnerorder", "unmatchedwebhook"])
def test_every_list_renders_and_nothing_can_be_added(staff, model):
    RefundFactory(payment=PaymentFactory(status="captured"))
    assert staff.get(f"/admin/payments/{model}/").status_code == 200
    assert staff.get(f"/admin/payments/{model}/add/").status_code == 403


def test_a_payment_page_shows_its_refunds_but_not_its_token(staff):
    refund = RefundFactory(payment=PaymentFactory(token="tok_secretish"))
    page = staff.get(f"/admin/payments/payment/{refund.payment.id}/change/")
    assert page.status_code == 200
    assert refund.id in page.content.decode()
    assert "tok_secretish" not in page.content.decode()


def test_unmatched_webhooks_are_resolved_by_the_action(staff):
    kept = UnmatchedWebhook.objects.create(source="psp", webhook_id="m1", code="x", body="{}")
    response = staff.post(
        "/admin/payments/unmatchedwebhook/",
        {"action": "resolve", "_selected_action": [kept.pk]},
    )
    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.resolved
