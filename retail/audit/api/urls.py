from django.urls import path

from retail.audit.api.trace import OrderTraceView
from retail.audit.api.verify import ChainVerifyView

urlpatterns = [
    path("audit/orders/<str:order_id>/trace", OrderTraceView.as_view(), name="audit-order-trace"),
    path("audit/verify", ChainVerifyView.as_view(), name="audit-verify"),
]
