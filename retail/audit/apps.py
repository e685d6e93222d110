from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "retail.audit"
    label = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.audit import handlers  # noqa: F401
        from retail.audit.database_roles import app_role_grant
        from retail.audit.services import history_tables_seal

        post_migrate.connect(history_tables_seal, sender=self)
        post_migrate.connect(app_role_grant, sender=self)
        from retail.audit.admin import history_models_register

        history_models_register()
