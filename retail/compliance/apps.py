from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "retail.compliance"
    label = "compliance"
    verbose_name = "Compliance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.compliance import handlers  # noqa: F401
        from retail.compliance.api import openapi  # noqa: F401 - registers the security scheme
