"""``manage.py seed_demo [--json]``: demo catalog, channels, partner, staff and fresh keys.

Data is created once (re-runs change nothing but top stock back up); API keys and staff
tokens are fresh on every run and earlier ones stay valid. Staff passwords are random and
set afresh on every run (they are not stored anywhere else to print them again). With
``--json`` stdout is exactly one JSON object (CONTRACT.md, Commands).
"""

import io
import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from retail.catalog import public as catalog
from retail.channels import services
from retail.channels.models import Channel
from retail.inventory import public as inventory

STOREFRONTS = [
    ("web", "Web store", Channel.Kind.WEB),
    ("app", "Mobile app", Channel.Kind.APP),
    ("pos", "Point of sale", Channel.Kind.POS),
]
PARTNERS = [("acme", "ACME Marketplace")]
ROLES = [
    "operations",
    "finance",
    "compliance_analyst",
    "compliance_officer",
    "auditor",
    "engineer",
]
TOKEN_ROLES = ("auditor", "finance")
ADMIN_USERNAME = "admin"
MIN_STOCK = 10_000
DEMO_SKUS = [
    ("CAM-BAS-P", "Camiseta básica P", 4990),
    ("CAM-BAS-M", "Camiseta básica M", 4990),
    ("CAM-BAS-G", "Camiseta básica G", 4990),
    ("CAL-JEANS-40", "Calça jeans 40", 15990),
    ("CAL-JEANS-42", "Calça jeans 42", 15990),
    ("TEN-CORRIDA-41", "Tênis de corrida 41", 34990),
    ("TEN-CORRIDA-42", "Tênis de corrida 42", 34990),
    ("MOC-URBANA", "Mochila urbana", 18990),
    ("GAR-TERMICA", "Garrafa térmica 1 l", 8990),
    ("CAN-INOX", "Caneca inox", 3990),
    ("FON-BT", "Fone Bluetooth", 19990),
    ("CAR-USBC", "Carregador USB-C 30 W", 12990),
    ("CAB-USBC", "Cabo USB-C 2 m", 3490),
    ("CAP-CELULAR", "Capinha de celular", 2990),
    ("LIV-ROMANCE", "Livro: romance", 5490),
    ("LIV-CULINARIA", "Livro: culinária brasileira", 7990),
    ("CAF-GRAOS-1KG", "Café em grãos 1 kg", 6990),
    ("CHA-MATE", "Chá mate 250 g", 1890),
    ("TOA-BANHO", "Toalha de banho", 5990),
    ("LEN-CASAL", "Jogo de lençol casal", 12990),
    ("LUM-LED", "Luminária LED", 9990),
    ("PAN-ANTIADER", "Panela antiaderente", 13990),
]


class Command(BaseCommand):
    help = "Creates the demo data (idempotently) and prints fresh API keys and staff tokens."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object only")

    def handle(self, *args: Any, **options: Any) -> None:
        seeded = self.seed()
        if options["json"]:
            self.stdout.write(json.dumps(seeded))
        else:
            self.stdout.write(self.human(seeded))

    def seed(self) -> dict[str, Any]:
        skus = []
        for code, name, price in DEMO_SKUS:
            sku = catalog.sku_ensure(code=code, name=name, base_price=price)
            stock = inventory.stock_ensure_available(
                sku=code, at_least=MIN_STOCK, reference="seed_demo"
            )
            skus.append({"sku": sku.sku, "price": sku.price, "stock": stock})
        channels = {}
        for code, name, kind in STOREFRONTS:
            channel = services.channel_ensure(code=code, name=name, kind=kind)
            channels[code] = {"api_key": services.api_key_issue(channel=channel)}
        partners = {}
        for code, name in PARTNERS:
            partner = services.channel_ensure(code=code, name=name, kind=Channel.Kind.MARKETPLACE)
            partners[code] = {
                "webhook_secret": services.webhook_secret_ensure(partner=partner),
                "api_key": services.api_key_issue(channel=partner),
            }
        tokens, staff = {}, {}
        for role in ROLES:
            staff[role] = {"username": role, "password": secrets.token_urlsafe(15)}
            user = services.staff_user_ensure(**staff[role], role=role)
            if role in TOKEN_ROLES:
                tokens[f"{role}_token"] = services.staff_token_issue(user=user)
        admin = {"username": ADMIN_USERNAME, "password": secrets.token_urlsafe(15)}
        services.staff_user_ensure(**admin, role=None)
        # /api/v1/ → new, /legacy/ → legacy (CONTRACT.md); by name: retail never imports strangler.
        call_command("route_set", "--defaults", "--reason", "seed_demo", stdout=io.StringIO())
        return {
            "channels": channels,
            "partners": partners,
            "psp": {"webhook_secret": settings.PSP_WEBHOOK_SECRET},
            **tokens,
            "admin": admin,
            "staff": staff,
            "skus": skus,
        }

    def human(self, seeded: dict[str, Any]) -> str:
        lines = ["Demo data ready. Keys and tokens below are shown once (older ones stay valid)."]
        for code, channel in seeded["channels"].items():
            lines.append(f"  channel {code:<6} api key        {channel['api_key']}")
        for code, partner in seeded["partners"].items():
            lines.append(f"  partner {code:<6} api key        {partner['api_key']}")
            lines.append(f"  partner {code:<6} webhook secret {partner['webhook_secret']}")
        lines.append(f"  PSP webhook secret            {seeded['psp']['webhook_secret']}")
        lines.append(f"  auditor token                 {seeded['auditor_token']}")
        lines.append(f"  finance token                 {seeded['finance_token']}")
        admin = seeded["admin"]
        lines.append(f"  admin login                   {admin['username']} / {admin['password']}")
        for role, login in seeded["staff"].items():
            lines.append(f"  {role + ' login':<30}{login['username']} / {login['password']}")
        lines.append(f"  {len(seeded['skus'])} SKUs, each with at least {MIN_STOCK} units")
        return "\n".join(lines)
