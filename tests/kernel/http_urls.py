"""One idempotent endpoint whose effect is one outbox row, served by gunicorn in the tests."""

import time

from django.db import transaction
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.platform import outbox
from retail.platform.idempotency import idempotent
from retail.platform.tests.probe import ProbeHappened

EFFECT_AGGREGATE = "http-effect"


class EffectView(APIView):
    """``{"n": int, "sleep_s": float}`` → one ProbeHappened, then a pause inside the transaction."""

    @idempotent
    def post(self, request):
        with transaction.atomic():
            message = outbox.emit(
                ProbeHappened(aggregate_id=EFFECT_AGGREGATE, position=request.data["n"])
            )
        time.sleep(float(request.data.get("sleep_s", 0)))
        return Response({"event_id": str(message.event_id), "n": request.data["n"]}, status=201)


urlpatterns = [path("api/v1/kernel-effects", EffectView.as_view())]
