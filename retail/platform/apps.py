from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "retail.platform"
    label = "retail_platform"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"
