from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "retail.payments"
    label = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.payments import handlers  # noqa: F401
