"""manage.py seed_demo: idempotent data, fresh keys and tokens each run, the JSON contract."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from retail.audit.public import app_database_url
from retail.catalog import public as catalog
from retail.channels import selectors
from retail.channels.management.commands.seed_demo import ROLES
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret
from retail.inventory import public as inventory

REPO = Path(__file__).resolve().parents[3]


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_seed_demo_json_has_the_contract_shape_and_working_credentials():
    seeded = seed()

    assert set(seeded) == {
        "channels",
        "partners",
        "psp",
        "auditor_token",
        "finance_token",
        "admin",
        "staff",
        "skus",
    }
    assert set(seeded["channels"]) == {"web", "app", "pos"}
    for code, channel in seeded["channels"].items():
        assert selectors.channel_principal_for_key(channel["api_key"]).code == code
    acme = seeded["partners"]["acme"]
    assert acme["webhook_secret"].startswith("whsec_")
    assert selectors.channel_principal_for_key(acme["api_key"]).kind == "marketplace"
    assert seeded["psp"] == {"webhook_secret": settings.PSP_WEBHOOK_SECRET}
    assert selectors.staff_principal_for_token(seeded["auditor_token"]).roles == {"auditor"}
    assert selectors.staff_principal_for_token(seeded["finance_token"]).roles == {"finance"}
    admin = authenticate(**seeded["admin"])
    assert admin is not None
    assert admin.is_superuser
    assert len(seeded["skus"]) >= 20
    codes = [row["sku"] for row in seeded["skus"]]
    prices = catalog.sku_prices(codes, channel_code="web")
    stock = inventory.available(codes)
    for row in seeded["skus"]:
        assert type(row["price"]) is int
        assert row["price"] == prices[row["sku"]].price
        assert row["stock"] >= 10_000
        assert row["stock"] == stock[row["sku"]]
    assert set(seeded["staff"]) == set(ROLES)
    assert set(ROLES) <= set(Group.objects.values_list("name", flat=True))
    for role, login in seeded["staff"].items():
        user = authenticate(**login)
        assert user is not None, role
        assert user.is_staff
        assert not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]


@pytest.mark.django_db
def test_passwords_are_random_not_derived_from_secret_key(settings):
    first = seed()
    settings.SECRET_KEY = "another-secret-key"
    second = seed()

    logins = [first["admin"], *first["staff"].values(), second["admin"], *second["staff"].values()]
    passwords = [login["password"] for login in logins]
    assert len(set(passwords)) == len(passwords)
    assert all(len(password) >= 20 for password in passwords)
    assert authenticate(**first["admin"]) is None  # each run sets and prints a fresh one
    assert authenticate(**second["admin"]) is not None


@pytest.mark.django_db
def test_a_second_run_issues_fresh_keys_keeps_old_ones_and_creates_no_duplicate_data():
    first = seed()
    counts = (Channel.objects.count(), User.objects.count(), WebhookSecret.objects.count())

    second = seed()

    assert counts == (Channel.objects.count(), User.objects.count(), WebhookSecret.objects.count())
    assert second["channels"]["web"]["api_key"] != first["channels"]["web"]["api_key"]
    assert second["auditor_token"] != first["auditor_token"]
    assert (
        second["partners"]["acme"]["webhook_secret"] == first["partners"]["acme"]["webhook_secret"]
    )
    assert second["admin"]["username"] == first["admin"]["username"]
    assert second["skus"] == first["skus"]
    for run in (first, second):
        assert selectors.channel_principal_for_key(run["channels"]["web"]["api_key"]) is not None
        assert selectors.staff_principal_for_token(run["finance_token"]) is not None
    assert ApiKey.objects.count() == 8
    assert StaffToken.objects.count() == 4


@pytest.mark.django_db
def test_a_run_tops_stock_back_up_after_sales():
    sku = seed()["skus"][0]["sku"]
    inventory.reserve({sku: 9_000}, "ord_load_test", expires_at=Channel.objects.first().created_at)
    inventory.commit("ord_load_test")
    assert inventory.available([sku])[sku] == 1_000

    assert next(row for row in seed()["skus"] if row["sku"] == sku)["stock"] == 10_000


@pytest.mark.django_db(transaction=True)
def test_stdout_of_the_real_command_is_exactly_one_json_object():
    env = {
        **os.environ,
        "DATABASE_URL": app_database_url(),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout)["channels"]["web"]["api_key"].startswith("rk_live_web_")


@pytest.mark.django_db
def test_seeding_routes_the_storefront_api_to_the_new_side():
    seed()
    listing = io.StringIO()
    call_command("route_set", "--list", stdout=listing)
    rows = [line.split() for line in listing.getvalue().splitlines()]
    assert any(row[:2] == ["/api/v1/", "new"] for row in rows), listing.getvalue()
    assert any(row[:2] == ["/legacy/", "legacy"] for row in rows), listing.getvalue()
