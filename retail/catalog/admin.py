"""Back office for the catalog: products, their SKUs and per-channel prices (centavos)."""

from django.contrib import admin

from retail.audit.public import AuditedHistoryAdmin
from retail.catalog.models import ChannelPrice, Product, Sku


class SkuInline(admin.TabularInline):
    model = Sku
    fields = ("code", "name", "base_price", "is_active")
    extra = 0


class ChannelPriceInline(admin.TabularInline):
    model = ChannelPrice
    fields = ("channel_code", "price")
    extra = 0


@admin.register(Product)
class ProductAdmin(AuditedHistoryAdmin):
    list_display = ("name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [SkuInline]


@admin.register(Sku)
class SkuAdmin(AuditedHistoryAdmin):
    list_display = ("code", "name", "base_price", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    inlines = [ChannelPriceInline]
