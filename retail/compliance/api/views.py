"""Alerts and cases: compliance and auditor read, only compliance decides (no tipping off)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import (
    ChannelKeyAuthentication,
    HasRole,
    StaffPrincipal,
    StaffTokenAuthentication,
)
from retail.compliance import domain, selectors, services
from retail.compliance.api import schemas
from retail.compliance.api.serializers import alert_data, case_data, operation_data
from retail.compliance.models import Alert, Case
from retail.platform.idempotency import idempotent
from retail.platform.openapi import IDEMPOTENCY_KEY, problems
from retail.platform.problems import Problem

READERS = ("compliance_analyst", "compliance_officer", "auditor")
DECIDERS = ("compliance_officer",)
MAX_JUSTIFICATION = 20_000


class NewestFirst(CursorPagination):
    ordering = ("-selected_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise Problem(400, "invalid_cursor", "The cursor is not one we issued.") from error

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})


class StaffOrChannelAuthentication(StaffTokenAuthentication):
    """A staff token, or else a channel key: a known channel gets 403 here, not 401."""

    def authenticate(self, request: Request) -> tuple[Any, int] | None:
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            return ChannelKeyAuthentication().authenticate(request)


def _status_filter(request: Request, statuses: list[str]) -> str | None:
    status = request.query_params.get("status") or None
    if status is not None and status not in statuses:
        raise Problem(400, "invalid_status", f"status must be one of {', '.join(statuses)}.")
    return status


class _ComplianceView(APIView):
    authentication_classes = [StaffOrChannelAuthentication]
    permission_classes = [HasRole(*READERS)]

    def _page(self, request: Request, items: QuerySet, render: Any) -> Response:
        paginator = NewestFirst()
        page = paginator.paginate_queryset(items, request, view=self) or []
        return paginator.get_paginated_response([render(item) for item in page])


def _page_parameters(statuses: list[str]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("status", str, enum=statuses, description="only items in this status"),
        OpenApiParameter("cursor", str, description="from the previous page's `next`"),
        OpenApiParameter("limit", int, description="page size, at most 200 (default 50)"),
    ]


class AlertListView(_ComplianceView):
    @extend_schema(
        operation_id="compliance_alert_list",
        parameters=_page_parameters(Alert.Status.values),
        responses={200: schemas.AlertPageOutput, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        status = _status_filter(request, Alert.Status.values)
        return self._page(request, selectors.alert_list(status), alert_data)


class CaseListView(_ComplianceView):
    @extend_schema(
        operation_id="compliance_case_list",
        parameters=_page_parameters(Case.Status.values),
        responses={200: schemas.CasePageOutput, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        status = _status_filter(request, Case.Status.values)
        return self._page(request, selectors.case_list(status), case_data)


class CaseDetailView(_ComplianceView):
    """The case with its dossier: alerts (rule, evidence), operations, holder."""

    @extend_schema(
        operation_id="compliance_case_get",
        responses={200: schemas.CaseDetailOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, case_id: str) -> Response:
        case = selectors.case_get(case_id)
        if case is None:
            raise Problem(404, "not_found", "No such case.")
        return Response(
            {
                **case_data(case),
                "dossier": {
                    "alerts": [alert_data(alert) for alert in case.alerts.all()],
                    "operations": [operation_data(op) for op in selectors.case_operations(case)],
                },
            }
        )


class CaseDecisionView(APIView):
    authentication_classes = [StaffOrChannelAuthentication]
    permission_classes = [HasRole(*DECIDERS)]

    @extend_schema(
        operation_id="compliance_case_decide",
        request=schemas.DecisionInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: schemas.CaseOutput, **problems(400, 401, 403, 404, 409, 413, 415, 422)},
        description="Compliance only: COMMUNICATE or ARCHIVE with a written justification; "
        "a case is decided once (then 409 `case_already_decided`).",
    )
    @idempotent
    def post(self, request: Request, case_id: str) -> Response:
        outcome, justification = _decision_input(request.data)
        actor: StaffPrincipal = request.user  # type: ignore[assignment]
        try:
            services.case_decide(
                case_id=case_id, outcome=outcome, justification=justification, actor=actor.username
            )
        except Case.DoesNotExist as error:
            raise Problem(404, "not_found", "No such case.") from error
        except services.CaseAlreadyDecided as error:
            raise Problem(409, "case_already_decided", "This case was already decided.") from error
        case = selectors.case_get(case_id)
        return Response(case_data(case), status=201)  # type: ignore[arg-type]


def _decision_input(body: Any) -> tuple[domain.Decision, str]:
    if not isinstance(body, dict):
        raise Problem(422, "validation_error", "The body must be a JSON object.")
    raw = body.get("decision")
    try:
        outcome = domain.Decision(str(raw).lower()) if isinstance(raw, str) else None
    except ValueError:
        outcome = None
    if outcome is None:
        raise Problem(422, "invalid_decision", "decision must be COMMUNICATE or ARCHIVE.")
    justification = body.get("justification")
    if not isinstance(justification, str) or not justification.strip():
        raise Problem(
            422, "justification_required", "A written justification is required (art. 48)."
        )
    if "\x00" in justification or len(justification) > MAX_JUSTIFICATION:
        raise Problem(
            422,
            "invalid_justification",
            f"The justification must be text of at most {MAX_JUSTIFICATION} characters.",
        )
    return outcome, justification
