"""The SISCOAF-style occurrence XML (pure: stdlib ElementTree, no Django)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

SCHEMA_VERSION = "1"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Person:
    document: str  # CPF/CNPJ digits, or the stored reference when the CPF was not revealed
    document_kind: str  # "CPF", "CNPJ" or "REF"
    name: str
    role: str  # "titular", "beneficiario", …
    pep: bool


@dataclass(frozen=True)
class Occurrence:
    reporter_cnpj: str
    reporter_name: str
    occurrence_number: str
    period_start: date
    period_end: date
    credits: int  # centavos
    debits: int  # centavos
    details: str
    framing_codes: tuple[str, ...]
    persons: tuple[Person, ...]
    decided_at: datetime


def reais(centavos: int) -> str:
    """Centavos as a decimal amount in reais, ``1234.56``, never through a float."""
    sign = "-" if centavos < 0 else ""
    whole, cents = divmod(abs(centavos), 100)
    return f"{sign}{whole}.{cents:02d}"


def occurrence_xml(occurrence: Occurrence) -> str:
    lote = ET.Element("LOTE", {"versao": SCHEMA_VERSION})
    communications = ET.SubElement(lote, "COMUNICACOES")
    communication = ET.SubElement(communications, "COMUNICACAO")
    _text(communication, "CPFCNPJComunicante", occurrence.reporter_cnpj)
    _text(communication, "NomeComunicante", occurrence.reporter_name)
    _text(communication, "NumeroOcorrencia", occurrence.occurrence_number)
    _text(communication, "DataDecisao", occurrence.decided_at.isoformat())
    _text(communication, "DataInicio", occurrence.period_start.isoformat())
    _text(communication, "DataFim", occurrence.period_end.isoformat())
    _text(communication, "ValorCreditos", reais(occurrence.credits), moeda="BRL")
    _text(communication, "ValorDebitos", reais(occurrence.debits), moeda="BRL")
    _text(communication, "InformacoesAdicionais", occurrence.details)
    framings = ET.SubElement(communication, "ENQUADRAMENTOS")
    for code in occurrence.framing_codes:
        _text(framings, "CodEnquadramento", code)
    persons = ET.SubElement(communication, "ENVOLVIDOS")
    for person in occurrence.persons:
        element = ET.SubElement(persons, "ENVOLVIDO")
        _text(element, "TipoEnvolvido", person.role)
        _text(element, "CPFCNPJEnvolvido", person.document, tipo=person.document_kind)
        _text(element, "NomeEnvolvido", person.name)
        _text(element, "PEP", "S" if person.pep else "N")
    ET.indent(lote)
    return ET.tostring(lote, encoding="unicode", xml_declaration=True) + "\n"


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    """Characters XML 1.0 cannot carry (control characters) are dropped, never sent broken."""
    ET.SubElement(parent, tag, attributes).text = _NOT_XML.sub("", text)
