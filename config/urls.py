from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from retail.platform import health, metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", include("config.api_v1")),
    path("webhooks/", include("config.webhooks")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "retail.platform.problems.bad_request"
handler403 = "retail.platform.problems.permission_denied"
handler404 = "retail.platform.problems.page_not_found"
handler500 = "retail.platform.problems.server_error"
