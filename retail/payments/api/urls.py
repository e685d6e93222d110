"""``/api/v1/`` routes of the payments context (included by config/api_v1.py)."""

from django.urls import path

from retail.payments.api.refunds import OrderRefundCreateView

urlpatterns = [
    path(
        "orders/<str:order_id>/refunds",
        OrderRefundCreateView.as_view(),
        name="order-refund-create",
    ),
]
