from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "retail.platform"
    label = "retail_platform"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.platform import metrics

        metrics.register_outbox_collector()
