"""Payments reach the PSP however the after-commit task fares: the sweep takes over what it
lost, backs off per payment, and stops only on the circuit breaker's verdict. Against the real
sandbox PSP (subprocess)."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from retail.payments import psp, submissions
from retail.payments.models import Payment
from retail.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _closed_breaker():
    psp.BREAKER.record(failed=False)
    yield
    psp.BREAKER.record(failed=False)


def requests_per_payment(psp_url: str) -> dict[str, int]:
    return {
        charge["payment_id"]: charge["requests"]
        for charge in httpx.get(psp_url + "/charges").json()
    }


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_payment_whose_task_was_lost_is_submitted_by_the_sweep_once(psp_url):
    payment = PaymentFactory()  # committed; its after-commit task never ran

    assert submissions.submit_sweep(now=timezone.now()) == 0  # its task still has the grace
    assert submissions.submit_sweep(now=later(10)) == 1
    assert submissions.submit_sweep(now=later(20)) == 0  # accepted: nothing more to do

    assert requests_per_payment(psp_url) == {payment.id: 1}
    payment.refresh_from_db()
    assert payment.submitted_at is not None


def test_a_503_backs_off_that_payment_and_the_sweep_goes_on(psp_url):
    flaky = PaymentFactory(token="tok_flaky")
    steady = [PaymentFactory() for _ in range(3)]
    now = later(10)

    assert submissions.submit_sweep(now=now) == 3

    assert requests_per_payment(psp_url) == {p.id: 1 for p in steady}
    flaky.refresh_from_db()
    assert (flaky.submitted_at, flaky.submit_attempts) == (None, 1)
    assert flaky.retry_at == now + timedelta(seconds=submissions.backoff_s(1))
    assert submissions.submit_sweep(now=now) == 0  # not due yet: the PSP is not asked again
    flaky.refresh_from_db()
    assert flaky.submit_attempts == 1


def test_a_flaky_payment_is_retried_until_the_psp_accepts_it_and_charged_once(psp_url):
    flaky = PaymentFactory(token="tok_flaky")
    now = later(10)
    for _ in range(5):
        submissions.submit_sweep(now=now)
        now += timedelta(seconds=submissions.BACKOFF_CAP_S)
    flaky.refresh_from_db()
    assert flaky.submitted_at is not None
    assert requests_per_payment(psp_url) == {flaky.id: flaky.submit_attempts}


def test_an_unreachable_psp_opens_the_breaker_and_the_sweep_stops(settings):
    settings.PSP_URL = "http://127.0.0.1:9"
    psp._client.cache_clear()
    payments = [PaymentFactory() for _ in range(settings.PSP_BREAKER_FAILURES + 3)]

    assert submissions.submit_sweep(now=later(10)) == 0

    attempts = sorted(Payment.objects.values_list("submit_attempts", flat=True))
    asked = settings.PSP_BREAKER_FAILURES
    assert attempts == [0] * (len(payments) - asked) + [1] * asked  # the rest not even claimed
    assert psp.circuit_open()
    with pytest.raises(psp.PspCircuitOpen):  # no request while open
        psp.payment_status(payments[0].id)
    psp._client.cache_clear()


def test_a_leased_payment_is_not_claimed_twice(psp_url):
    PaymentFactory()
    now = later(10)
    assert submissions._claim(Payment, now, 10)  # a worker took it and is asking the PSP
    assert submissions._claim(Payment, now, 10) == []
    assert submissions._claim(Payment, now + timedelta(seconds=submissions.LEASE_S + 1), 10)
