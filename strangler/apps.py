from django.apps import AppConfig


class StranglerConfig(AppConfig):
    name = "strangler"
    verbose_name = "Strangler routing"
    default_auto_field = "django.db.models.BigAutoField"
