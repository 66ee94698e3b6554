"""Territories, memberships and assignment runs; managers act within their territories, admins everywhere."""

from decimal import Decimal

import django_filters
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import apis as account_apis
from accounts.criteria import OPERATORS, criterion_problem
from accounts.selectors import account_list
from core.apis import MAX_ID, IdFilter
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin
from core.roles import ADMIN, MANAGER, REP, ROLES, is_admin, user_roles

from .models import Membership, Territory
from .selectors import membership_list, ownership_problems, territory_ids_assignable_by, territory_list
from .services import (
    PlannedMoves,
    account_reassign,
    assignment_job_start,
    assignment_preview_latest,
    assignment_preview_start,
    membership_create,
    membership_delete,
    membership_departure_plan,
    membership_departure_start,
    membership_update,
    territory_create,
    territory_update,
    user_create,
)

PREVIEW_MOVES = 500


class ManagerOrAdmin(BasePermission):
    message = "Only managers and RevOps admins may do this."

    def has_permission(self, request, view) -> bool:
        return bool(user_roles(request.user) & {MANAGER, "admin"})


class CriterionSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, allow_blank=True, max_length=120)
    attribute = serializers.RegexField(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
    operator = serializers.ChoiceField(choices=OPERATORS)
    value = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs):
        problem = criterion_problem(attrs["operator"], attrs.get("value"))
        if problem:
            raise serializers.ValidationError({"value": problem})
        return attrs


class AccountViewSet(account_apis.AccountViewSet):
    """Accounts' endpoint with the rules of who works an account: a territory or owner set directly must be one that
    routing keeps (the territory its rules or named accounts give, an owner who is an active member there), as in
    a reassignment; otherwise the edit is refused with the reason. A pending handoff follows its account's owner."""

    def perform_create(self, serializer):
        self._ownership_stands(None, serializer.validated_data)
        super().perform_create(serializer)

    def perform_update(self, serializer):
        self._ownership_stands(serializer.instance, serializer.validated_data)
        super().perform_update(serializer)

    @staticmethod
    def _ownership_stands(account, values) -> None:
        problems = ownership_problems(account=account, values=values)
        if problems:
            raise serializers.ValidationError({field: [message] for field, message in problems.items()})


class TerritorySerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, required=False)

    class Meta:
        model = Territory
        fields = [
            "id", "name", "parent", "priority", "criteria", "named_accounts", "strategy", "is_active",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A parent outside the reader's territories is not shown, not even its id.
        request = self.context.get("request")
        if request is not None and instance.parent_id is not None:
            root = self.root
            if not hasattr(root, "visible_territory_ids"):
                root.visible_territory_ids = set(territory_list(user=request.user).values_list("pk", flat=True))
            if instance.parent_id not in root.visible_territory_ids:
                data["parent"] = None
        return data

    def validate_parent(self, parent):
        node = parent
        while node is not None:
            if self.instance is not None and node.pk == self.instance.pk:
                raise serializers.ValidationError("A territory cannot sit below itself.")
            node = node.parent
        return parent


class TerritoryFilter(django_filters.FilterSet):
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Territory
        fields = ["parent", "is_active", "strategy"]


class TerritoryViewSet(viewsets.ModelViewSet):
    """Territories the user may see; RevOps admins create and change them."""

    serializer_class = TerritorySerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = TerritoryFilter
    search_fields = ["name"]
    ordering = ["priority", "name"]

    def get_queryset(self):
        return territory_list(user=self.request.user).prefetch_related("named_accounts")

    def perform_create(self, serializer):
        try:
            serializer.instance = territory_create(user=self.request.user, values=serializer.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None

    def perform_update(self, serializer):
        try:
            serializer.instance = territory_update(
                territory=serializer.instance, user=self.request.user, values=serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id", "user", "username", "territory", "role", "max_accounts", "max_tier1_accounts", "weight",
            "away_from", "away_until", "is_active",
        ]  # fmt: skip
        extra_kwargs = {
            "weight": {
                "min_value": Decimal("0.01"),
                "help_text": "Share of new accounts in round robin, relative to the other reps' (2: twice as many).",
                "error_messages": {"min_value": "The weight must be more than 0."},
            }
        }
        validators = []  # the unique pair is checked below with a clearer message

    def validate(self, attrs):
        request = self.context["request"]
        territory = attrs.get("territory", getattr(self.instance, "territory", None))
        user = attrs.get("user", getattr(self.instance, "user", None))
        role = attrs.get("role", getattr(self.instance, "role", Membership.Role.REP))
        allowed = territory_ids_assignable_by(user=request.user)
        if allowed is not None and territory.pk not in allowed:
            raise PermissionDenied("You may only change the members of your territories.")
        if self.instance is not None and "territory" in attrs and attrs["territory"] != self.instance.territory:
            raise serializers.ValidationError(
                {"territory": "A membership cannot move; add one to the other territory."}
            )
        if role == Membership.Role.MANAGER and not is_admin(request.user):
            raise PermissionDenied("Only RevOps admins appoint managers.")
        wanted = MANAGER if role == Membership.Role.MANAGER else REP
        if wanted not in user_roles(user):
            raise serializers.ValidationError({"user": f"{user.username} does not have the {wanted} role."})
        away_from = attrs.get("away_from", getattr(self.instance, "away_from", None))
        away_until = attrs.get("away_until", getattr(self.instance, "away_until", None))
        if away_from and away_until and away_until < away_from:
            raise serializers.ValidationError({"away_until": "The return date is before the first day away."})
        duplicate = Membership.objects.filter(user=user, territory=territory)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise serializers.ValidationError({"user": f"{user.username} is already a member of {territory.name}."})
        return attrs


class MembershipFilter(django_filters.FilterSet):
    territory = IdFilter(field_name="territory_id")
    user = IdFilter(field_name="user_id")

    class Meta:
        model = Membership
        fields = ["territory", "user", "role", "is_active"]


class DepartureMoveSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    to_owner = serializers.IntegerField(allow_null=True, help_text="The new owner; null: no member has room.")


class DepartureHandoffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    to_owner = serializers.IntegerField(allow_null=True)
    accept_due_at = serializers.DateTimeField(allow_null=True, help_text="Unchanged by the handover.")


class DeparturePreviewSerializer(serializers.Serializer):
    membership = serializers.IntegerField()
    rule = serializers.CharField(help_text='Logged with each move, e.g. "Ann Lee left North" or "away 2026-03-01–…".')
    accounts = serializers.IntegerField(help_text="How many accounts move.")
    unassigned = serializers.IntegerField(help_text="How many would be left without an owner (no member has room).")
    moves = DepartureMoveSerializer(many=True, help_text=f"The first {PREVIEW_MOVES} moves.")
    handoffs = DepartureHandoffSerializer(many=True, help_text="Open handoffs that follow their accounts.")


class MembershipViewSet(viewsets.ModelViewSet):
    """Members of the territories the user may see; managers edit their territories' members and capacities."""

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering = ["territory", "role", "user"]

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return super().get_permissions()
        return [ManagerOrAdmin()]

    def get_queryset(self):
        return membership_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = membership_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = membership_update(membership=serializer.instance, values=serializer.validated_data)

    def _departing(self):
        membership = self.get_object()
        allowed = territory_ids_assignable_by(user=self.request.user)
        if allowed is not None and membership.territory_id not in allowed:
            raise PermissionDenied("You may only hand over the accounts of your territories' members.")
        return membership

    @extend_schema(methods=["GET"], responses={200: DeparturePreviewSerializer, 400: OpenApiResponse()})
    @extend_schema(
        methods=["POST"],
        request=None,
        responses={
            202: inline_serializer(
                "HandoverStarted", {"job": serializers.IntegerField(), "status_url": serializers.CharField()}
            ),
            400: OpenApiResponse(),
        },
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[ManagerOrAdmin])
    def departure(self, request, pk=None):
        """A departing rep (inactive, or away longer than DEPARTURE_ABSENCE_DAYS): GET previews where each of their
        accounts in the territory goes and which open handoffs follow (keeping their due times); POST applies it
        as a job (202, follow the job)."""
        membership = self._departing()
        try:
            if request.method == "POST":
                job = membership_departure_start(user=request.user, membership=membership)
                return Response(
                    {"job": job.pk, "status_url": f"/api/v1/jobs/{job.pk}/"}, status=status.HTTP_202_ACCEPTED
                )
            plan = membership_departure_plan(user=request.user, membership=membership)
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_400_BAD_REQUEST)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        to_owner = {m.account_id: m.to_owner_id for m in plan.moves}
        body = {
            "membership": membership.pk,
            "rule": plan.reason,
            "accounts": len(plan.moves),
            "unassigned": plan.unassigned,
            "moves": [
                {"account": m.account_id, "account_name": m.account_name, "to_owner": m.to_owner_id}
                for m in plan.moves[:PREVIEW_MOVES]
            ],
            "handoffs": [
                {
                    "id": h["id"],
                    "account": h["account_id"],
                    "account_name": h["account_name"],
                    "to_owner": to_owner.get(h["account_id"]),
                    "accept_due_at": h["accept_due_at"],
                }
                for h in plan.handoffs
            ],
        }
        return Response(DeparturePreviewSerializer(body).data)

    def perform_destroy(self, instance):
        allowed = territory_ids_assignable_by(user=self.request.user)
        if allowed is not None and instance.territory_id not in allowed:
            raise PermissionDenied("You may only change the members of your territories.")
        membership_delete(membership=instance)


class AssignmentRequestSerializer(serializers.Serializer):
    account_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=100_000
    )


class MoveSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The move's place in the run (0 first), in account id order.")
    account_id = serializers.IntegerField()
    account_name = serializers.CharField()
    from_owner_id = serializers.IntegerField(allow_null=True)
    to_owner_id = serializers.IntegerField(allow_null=True)
    from_territory_id = serializers.IntegerField(allow_null=True)
    to_territory_id = serializers.IntegerField(allow_null=True)
    rule = serializers.CharField()


class PreviewPageSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=PREVIEW_MOVES, required=False, default=100)


PREVIEW = inline_serializer(
    "AssignmentPreview",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=["preparing", "ready", "failed"]),
        "job": serializers.IntegerField(allow_null=True),
        "prepared_at": serializers.DateTimeField(allow_null=True),
        "considered": serializers.IntegerField(),
        "move_count": serializers.IntegerField(),
        "unassigned": serializers.IntegerField(),
        "outside_scope": serializers.IntegerField(),
        "rep_counts": serializers.ListField(child=serializers.DictField()),
        "territory_counts": serializers.ListField(child=serializers.DictField()),
        "page": serializers.IntegerField(),
        "pages": serializers.IntegerField(),
        "moves": MoveSerializer(many=True),
    },
)
PREVIEW_STARTED = inline_serializer(
    "AssignmentPreviewStarted",
    {
        "preview": serializers.IntegerField(),
        "job": serializers.IntegerField(),
        "status_url": serializers.CharField(),
        "preview_url": serializers.CharField(),
    },
)


class AssignmentPreviewView(APIView):
    """An assignment preview: POST prepares one as a job (202; follow the job, then GET it); GET reads the caller's
    latest: its totals, owned accounts per rep and accounts per territory before and after, and its moves a page at a
    time (`page`, `page_size` up to 500), in account id order."""

    permission_classes = [ManagerOrAdmin]

    @extend_schema(request=AssignmentRequestSerializer, responses={202: PREVIEW_STARTED})
    def post(self, request):
        body = AssignmentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            preview = assignment_preview_start(user=request.user, account_ids=body.validated_data.get("account_ids"))
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(
            {
                "preview": preview.pk,
                "job": preview.job_id,
                "status_url": f"/api/v1/jobs/{preview.job_id}/",
                "preview_url": "/api/v1/assignments/preview/",
            },
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(parameters=[PreviewPageSerializer], responses={200: PREVIEW, 404: OpenApiResponse()})
    def get(self, request):
        query = PreviewPageSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = assignment_preview_latest(user=request.user)
        if preview is None:
            raise NotFound("No assignment preview yet: POST to prepare one.")
        state = "failed" if preview.job is not None and preview.job.status == "failed" else preview.status
        paginator = Paginator(PlannedMoves(preview), query.validated_data["page_size"])
        page = paginator.get_page(query.validated_data["page"]) if state == "ready" else None
        return Response(
            {
                "id": preview.pk,
                "status": state,
                "job": preview.job_id,
                "prepared_at": preview.finished_at,
                "considered": preview.considered,
                "move_count": preview.move_count,
                "unassigned": preview.unassigned,
                "outside_scope": preview.outside_scope,
                "rep_counts": preview.rep_counts,
                "territory_counts": preview.territory_counts,
                "page": page.number if page else 1,
                "pages": paginator.num_pages if page else 0,
                "moves": MoveSerializer(page.object_list if page else [], many=True).data,
            }
        )


class AssignmentApplyView(APIView):
    """Apply the assignment as a background job; follow it at /api/v1/jobs/{id}/."""

    permission_classes = [ManagerOrAdmin]

    @extend_schema(
        request=AssignmentRequestSerializer,
        responses={
            202: inline_serializer(
                "JobStarted", {"job": serializers.IntegerField(), "status_url": serializers.CharField()}
            )
        },
    )
    def post(self, request):
        body = AssignmentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = assignment_job_start(user=request.user, account_ids=body.validated_data.get("account_ids"))
        return Response({"job": job.pk, "status_url": f"/api/v1/jobs/{job.pk}/"}, status=status.HTTP_202_ACCEPTED)


class ReassignSerializer(serializers.Serializer):
    account_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True)


class ReassignView(APIView):
    """Give accounts to a member of their territory by hand (or unassign them with owner null)."""

    permission_classes = [ManagerOrAdmin]

    @extend_schema(
        request=ReassignSerializer,
        responses={
            200: inline_serializer("Reassigned", {"changed": serializers.IntegerField()}),
            400: OpenApiResponse(),
        },
    )
    def post(self, request):
        body = ReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Only accounts the user can see are touched; others read as missing, not as forbidden.
        ids = body.validated_data["account_ids"]
        visible = set(account_list(user=request.user).filter(pk__in=ids).values_list("pk", flat=True))
        if visible != set(ids):
            return Response(
                {"account_ids": ["Some of these accounts do not exist."]}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            changed = account_reassign(user=request.user, account_ids=ids, owner=body.validated_data["owner"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"changed": changed})


# --- Users: people, their role and the territories they work in (admins) -----------------------------


class UserSerializer(serializers.ModelSerializer):
    """A user with one role; reps and managers may be placed in territories as they are created."""

    role = serializers.ChoiceField(choices=ROLES, write_only=True)
    roles = serializers.SerializerMethodField()
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    territories = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), many=True, required=False, write_only=True
    )
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id", "username", "first_name", "last_name", "email", "is_active", "role", "roles", "password",
            "territories", "memberships",
        ]  # fmt: skip
        read_only_fields = ["is_active"]

    def get_roles(self, obj) -> list[str]:
        return sorted(g.name for g in obj.groups.all() if g.name in ROLES)

    def get_memberships(self, obj) -> list[dict]:
        return [{"territory": m.territory_id, "role": m.role, "is_active": m.is_active} for m in obj.memberships.all()]

    def validate(self, attrs):
        if attrs.get("password"):
            candidate = User(**{f: attrs.get(f, "") for f in ("username", "email", "first_name", "last_name")})
            try:
                validate_password(attrs["password"], user=candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from None
        if attrs.get("territories") and attrs.get("role") == ADMIN:
            raise serializers.ValidationError(
                {"territories": "Admins see every territory; they are not members of one."}
            )
        return attrs

    def create(self, validated_data):
        return user_create(**validated_data)


class UserViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Users and their roles (RevOps admins only)."""

    serializer_class = UserSerializer
    permission_classes = [IsRevOpsAdmin]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]

    def get_queryset(self):
        return User.objects.prefetch_related("groups", "memberships").order_by("username")
