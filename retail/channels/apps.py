from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "retail.channels"
    label = "channels"
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.channels import openapi  # noqa: F401 - registers the security schemes
