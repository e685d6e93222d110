"""Trial balance and account statements over HTTP: staff roles only, totals always equal."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from retail.ledger.tests.support import captured, deliver, refunded, settled, staff_client

pytestmark = pytest.mark.django_db

TRIAL_BALANCE = "/api/v1/ledger/trial-balance"


def statement_url(code):
    return f"/api/v1/ledger/accounts/{code}/statement"


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == code


@pytest.fixture
def finance():
    return staff_client("finance")


@pytest.fixture
def ledger_with_movements():
    deliver(
        captured(payment="pay_1", order="ord_1", channel="web", amount=10_000),
        captured(payment="pay_2", order="ord_2", channel="app", amount=4_000),
        refunded(refund="ref_1", payment="pay_1", order="ord_1", amount=2_500),
        settled(order="ord_3", partner="acme", amount=7_000),
    )


@pytest.mark.parametrize("url", [TRIAL_BALANCE, statement_url("psp_clearing")])
def test_without_a_token_it_is_401_and_with_another_role_403(url):
    problem(APIClient().get(url), 401, "unauthenticated")
    problem(staff_client("engineer").get(url), 403, "forbidden")
    problem(staff_client("compliance").get(url), 403, "forbidden")


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_read_the_trial_balance(role, ledger_with_movements):
    body = staff_client(role).get(TRIAL_BALANCE).json()
    lines = {line["code"]: line for line in body["accounts"]}
    assert body["total_debit"] == body["total_credit"] == 21_000 + 2_500 - 2_500
    assert lines["psp_clearing"] == {
        "code": "psp_clearing",
        "name": "PSP clearing",
        "normal_side": "debit",
        "debit": 11_500,
        "credit": 0,
        "balance": 11_500,
    }
    assert (lines["sales_revenue"]["credit"], lines["sales_revenue"]["balance"]) == (21_000, 21_000)
    assert lines["sales_refunds"]["debit"] == 2_500
    assert lines["partner_receivable.acme"]["debit"] == 7_000
    assert lines["customer_receivable.web"]["debit"] == lines["customer_receivable.web"]["credit"]
    assert lines["customer_receivable.web"]["balance"] == 0
    assert all(
        set(line) >= {"code", "name", "debit", "credit", "balance"} for line in lines.values()
    )


def test_as_of_counts_only_what_was_posted_by_then(finance):
    deliver(captured(payment="pay_1", order="ord_1", amount=1_000))
    between = timezone.now()
    deliver(captured(payment="pay_2", order="ord_2", amount=300))
    now_body = finance.get(TRIAL_BALANCE).json()
    then_body = finance.get(TRIAL_BALANCE, {"as_of": between.isoformat()}).json()
    before_body = finance.get(TRIAL_BALANCE, {"as_of": "2000-01-01T00:00:00Z"}).json()
    assert now_body["total_debit"] == 1_300
    assert then_body["total_debit"] == then_body["total_credit"] == 1_000
    assert before_body["accounts"] == []
    assert before_body["total_debit"] == before_body["total_credit"] == 0


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-25T12:00:00"])
def test_a_bad_as_of_is_400(finance, value):
    problem(finance.get(TRIAL_BALANCE, {"as_of": value}), 400, "invalid_query_parameter")


def test_a_statement_lists_postings_with_a_running_balance(finance, ledger_with_movements):
    body = finance.get(statement_url("psp_clearing")).json()
    assert body["account"] == {
        "code": "psp_clearing",
        "name": "PSP clearing",
        "normal_side": "debit",
    }
    assert [(line["debit"], line["credit"], line["balance"]) for line in body["lines"]] == [
        (10_000, 0, 10_000),
        (4_000, 0, 14_000),
        (0, 2_500, 11_500),
    ]
    assert (body["opening_balance"], body["closing_balance"], body["next"]) == (0, 11_500, None)
    assert [line["order_id"] for line in body["lines"]] == ["ord_1", "ord_2", "ord_1"]


def test_a_credit_account_statement_counts_up_on_credits(finance, ledger_with_movements):
    body = finance.get(statement_url("sales_revenue")).json()
    assert [line["balance"] for line in body["lines"]] == [10_000, 14_000, 21_000]


def test_from_and_to_window_the_statement_and_the_opening_balance_carries_the_past(finance):
    deliver(captured(payment="pay_1", order="ord_1", amount=1_000))
    start = timezone.now()
    deliver(captured(payment="pay_2", order="ord_2", amount=300))
    end = timezone.now()
    deliver(captured(payment="pay_3", order="ord_3", amount=50))
    body = finance.get(
        statement_url("psp_clearing"), {"from": start.isoformat(), "to": end.isoformat()}
    ).json()
    assert body["opening_balance"] == 1_000
    assert [line["balance"] for line in body["lines"]] == [1_300]
    assert body["closing_balance"] == 1_300


def test_a_long_statement_is_paged_and_balances_carry_across_pages(finance):
    deliver(*(captured(payment=f"pay_{i}", order=f"ord_{i}", amount=100 + i) for i in range(5)))
    balances, url, params = [], statement_url("psp_clearing"), {"limit": 2}
    while url:
        body = finance.get(url, params).json()
        balances += [line["balance"] for line in body["lines"]]
        url, params = body["next"], None
    assert balances == [100, 201, 303, 406, 510]


def test_an_unknown_account_is_404(finance):
    problem(finance.get(statement_url("no_such_account")), 404, "account_not_found")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "not-a-time"},
        {"to": "2026-11-25"},
        {"from": "2026-11-25T12:00:00Z", "to": "2026-11-24T12:00:00Z"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "abc"},
        {"cursor": "garbage"},
        {"cursor": "MjAyNnwx"},
    ],
)
def test_bad_statement_parameters_are_400_never_500(finance, params):
    problem(finance.get(statement_url("psp_clearing"), params), 400, "invalid_query_parameter")


def test_times_in_answers_are_utc(finance, ledger_with_movements):
    line = finance.get(statement_url("psp_clearing")).json()["lines"][0]
    assert dt.datetime.fromisoformat(line["posted_at"]).utcoffset() == dt.timedelta(0)
