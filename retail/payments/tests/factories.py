import factory

from retail.payments.models import Payment, Refund


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order_id = factory.Sequence(lambda n: f"ord_TEST{n:06d}")
    channel = "web"
    amount = 5000
    method = "card"
    token = "tok_ok"


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    order_id = factory.LazyAttribute(lambda refund: refund.payment.order_id)
    amount = 1000
    reason = "damaged"
