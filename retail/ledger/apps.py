from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "retail.ledger"
    label = "ledger"
    verbose_name = "Ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.ledger import handlers  # noqa: F401 - registers the consumers
