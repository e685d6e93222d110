"""The compliance admin: only the compliance and auditor groups see it; only compliance edits."""

import json

import pytest
from django.contrib.auth.models import Group, User

from retail.compliance.models import PoliticallyExposedPerson, Rule
from retail.customers import public as customers

pytestmark = pytest.mark.django_db
RULES = "/admin/compliance/rule/"


def login(client, username, *, group=None, superuser=False):
    user = User.objects.create_user(username, password="x" * 12, is_staff=True)
    user.is_superuser = superuser
    user.save()
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client.force_login(user)
    return client


@pytest.mark.parametrize("group", ["compliance_analyst", "compliance_officer", "auditor"])
def test_compliance_and_auditor_see_the_rules(client, group):
    assert login(client, group, group=group).get(RULES).status_code == 200


@pytest.mark.parametrize(
    ("username", "group", "superuser"),
    [("finance", "finance", False), ("engineer", "engineer", False), ("root", None, True)],
)
def test_other_staff_and_superusers_outside_the_groups_see_nothing(
    client, username, group, superuser
):
    client = login(client, username, group=group, superuser=superuser)
    assert client.get(RULES).status_code == 403
    assert client.get("/admin/compliance/alert/").status_code == 403
    assert b"Compliance" not in client.get("/admin/").content


def form(rule: Rule, parameters: dict) -> dict:
    return {
        "code": rule.code,
        "kind": rule.kind,
        "name": rule.name,
        "description": rule.description,
        "parameters": json.dumps(parameters),
        "coaf_framing_codes": "",
        "is_active": "on",
    }


def test_the_auditor_cannot_change_a_rule(client):
    rule = Rule.objects.get(code="velocity")
    client = login(client, "auditor", group="auditor")
    response = client.post(
        f"{RULES}{rule.pk}/change/", form(rule, {**rule.parameters, "max_operations": 99})
    )
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.parameters["max_operations"] == 10


def test_compliance_edits_a_rule_with_validated_parameters_and_history(client):
    rule = Rule.objects.get(code="velocity")
    client = login(client, "officer", group="compliance_officer")
    bad = client.post(
        f"{RULES}{rule.pk}/change/", form(rule, {**rule.parameters, "max_operations": 0})
    )
    assert bad.status_code == 200  # the form again, with the error
    assert b"max_operations must be an integer" in bad.content
    good = client.post(
        f"{RULES}{rule.pk}/change/", form(rule, {**rule.parameters, "max_operations": 20})
    )
    assert good.status_code == 302
    rule.refresh_from_db()
    assert rule.parameters["max_operations"] == 20
    assert rule.history.get().history_user.username == "officer"


PEPS = "/admin/compliance/politicallyexposedperson/"


def pep_form(**fields: str) -> dict:
    return {"name": "Ana Lima", "office": "Senadora", "customer_id": "", "cpf": "", **fields}


def test_compliance_lists_a_pep_by_cpf_and_only_its_fingerprint_is_kept(client):
    client = login(client, "compliance", group="compliance_officer")
    response = client.post(f"{PEPS}add/", pep_form(cpf="529.982.247-25"))
    assert response.status_code == 302, response.content
    entry = PoliticallyExposedPerson.objects.get()
    assert (entry.cpf_masked, entry.customer_id) == ("***.982.247-**", "")
    assert entry.cpf_fingerprint == customers.cpf_reference("52998224725").fingerprint
    rows = [*PoliticallyExposedPerson.objects.values(), *PoliticallyExposedPerson.history.values()]
    stored = json.dumps(rows, default=str)
    assert "52998224725" not in stored
    assert "529.982.247-25" not in stored


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"cpf": "529.982.247-26"}, b"CPF"),
        ({}, b"Give the CPF on the list or the customer it names."),
    ],
)
def test_a_pep_entry_needs_a_valid_cpf_or_a_customer(client, fields, error):
    client = login(client, "compliance", group="compliance_officer")
    response = client.post(f"{PEPS}add/", pep_form(**fields))
    assert response.status_code == 200
    assert error in response.content
    assert not PoliticallyExposedPerson.objects.exists()
