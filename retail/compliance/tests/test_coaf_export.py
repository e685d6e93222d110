"""``coaf_export``: the SISCOAF-style XML of a COMMUNICATE case, and refusals."""

import io
import xml.etree.ElementTree as ET  # test input is our own output
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from retail.compliance import domain, services
from retail.compliance.models import Case, Communication, PoliticallyExposedPerson, Rule
from retail.compliance.tests.conftest import structuring
from retail.customers import public as customers

pytestmark = pytest.mark.django_db


def parse(content: str) -> ET.Element:
    """Raises unless the XML is well-formed (our own output, not untrusted input)."""
    return ET.fromstring(content)  # noqa: S314


def export(case_id: str, *extra: str) -> str:
    out = io.StringIO()
    call_command("coaf_export", "--case", case_id, *extra, stdout=out)
    return out.getvalue()


def decided(case: Case, outcome: domain.Decision, justification: str = "Structuring.") -> Case:
    return services.case_decide(
        case_id=case.id, outcome=outcome, justification=justification, actor="officer"
    )


def test_the_export_carries_reporter_occurrence_period_amounts_framing_and_persons(
    shop, now, settings
):
    Rule.objects.filter(code="structuring").update(coaf_framing_codes="4011, 4013")
    customer_id = structuring(shop, now)
    order_id = shop.paid(customer_id, 980_000, now - timedelta(hours=1))
    shop.refunded(order_id, 900_000, now)  # pass-through: joins the customer's open case
    PoliticallyExposedPerson.objects.create(customer_id=customer_id, name="M", office="Vereadora")
    case = Case.objects.get(customer_id=customer_id)
    assert sorted(case.alerts.values_list("rule__code", flat=True)) == [
        "pass-through",
        "structuring",
    ]
    decided(case, domain.Decision.COMMUNICATE, "Four payments of R$ 9,800 & a <refund>.")

    root = parse(export(case.id))  # well-formed, or this raises
    (communication,) = root.iter("COMUNICACAO")
    field = {child.tag: child for child in communication}
    assert field["CPFCNPJComunicante"].text == settings.COMPLIANCE_REPORTER_CNPJ
    assert field["NumeroOcorrencia"].text == Communication.objects.get().occurrence_number
    operations = services.selectors.case_operations(case)
    assert field["DataInicio"].text == min(op.occurred_at for op in operations).date().isoformat()
    assert field["DataFim"].text == max(op.occurred_at for op in operations).date().isoformat()
    credits = sum(op.amount for op in operations if op.direction == "credit")
    assert field["ValorCreditos"].text == services.siscoaf.reais(credits)
    assert credits == 4 * 980_000
    assert field["ValorDebitos"].text == "9000.00"
    assert "Four payments of R$ 9,800 & a <refund>." in field["InformacoesAdicionais"].text
    assert [c.text for c in field["ENQUADRAMENTOS"]] == ["4011", "4013"]
    (person,) = field["ENVOLVIDOS"]
    assert person.findtext("TipoEnvolvido") == "titular"
    assert person.findtext("NomeEnvolvido") == "Maria Silva"
    assert person.findtext("PEP") == "S"
    document = person.find("CPFCNPJEnvolvido")
    if hasattr(customers, "customer_cpf_reveal"):  # the logged reveal, once customers has it
        assert document.get("tipo") == "CPF"
        assert len(document.text) == 11
    else:
        assert (document.get("tipo"), document.text) == ("REF", customer_id)


def test_the_export_is_kept_as_what_was_sent_and_can_go_to_a_file(shop, now, tmp_path):
    structuring(shop, now)
    case = Case.objects.get()
    decided(case, domain.Decision.COMMUNICATE)
    target = tmp_path / "coaf.xml"
    assert export(case.id, "--out", str(target)) == ""
    content = target.read_text(encoding="utf-8")
    parse(content)
    communication = Communication.objects.get()
    assert communication.content == content
    assert communication.exported_at is not None
    assert communication.receipt_number == ""
    services.communication_receipt_record(case_id=case.id, receipt_number="SISCOAF-123")
    communication.refresh_from_db()
    assert (communication.receipt_number, communication.sent_at is not None) == (
        "SISCOAF-123",
        True,
    )


def test_control_characters_in_the_justification_never_break_the_xml(shop, now):
    structuring(shop, now)
    case = Case.objects.get()
    decided(case, domain.Decision.COMMUNICATE, "bell\x07 and escape\x1b removed")
    details = parse(export(case.id)).findtext(".//InformacoesAdicionais")
    assert "bell and escape removed" in details


def test_open_archived_and_unknown_cases_are_refused(shop, now):
    structuring(shop, now)
    case = Case.objects.get()
    with pytest.raises(CommandError, match="not decided COMMUNICATE"):
        export(case.id)
    decided(case, domain.Decision.ARCHIVE)
    with pytest.raises(CommandError):
        export(case.id)
    with pytest.raises(CommandError):
        export("cas_nope")
    assert not Communication.objects.exists()


def test_a_person_with_no_pep_entry_is_flagged_no(shop, now):
    structuring(shop, now)
    case = Case.objects.get()
    decided(case, domain.Decision.COMMUNICATE)
    assert parse(export(case.id)).findtext(".//PEP") == "N"
