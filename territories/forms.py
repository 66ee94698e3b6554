from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import cached_property

from accounts.criteria_forms import CriteriaFormSet
from accounts.models import Account
from core.roles import MANAGER, REP

from .models import Membership, Quota, Territory
from .selectors import territory_descendant_ids

MEMBERSHIP_LABELS = {
    "role": "Role",
    "max_accounts": "Capacity (owned accounts)",
    "max_tier1_accounts": "Tier 1 capacity",
    "weight": "Rotation weight",
    "away_from": "Away from",
    "away_until": "Away until",
    "is_active": "Active",
}
MEMBERSHIP_HELP = {
    "max_accounts": "Empty: no limit. Routing gives no new account to a member at capacity.",
    "max_tier1_accounts": (
        "Empty: no limit. Tier 1 in the territory is held to the sum of its members' Tier 1 capacity."
    ),
    "away_until": "The last day away (included). Routing gives no new account to a member while away.",
    "weight": "Share of new accounts in round robin, relative to the other reps: 2 gets twice as many as 1.",
}
WEIGHT_ERRORS = {
    "required": "Enter a weight (1 for an even share).",
    "invalid": "Enter a number, e.g. 1 or 1.5.",
    "min_value": "The weight must be more than 0.",
    "max_digits": "Enter a weight below 10,000.",
    "max_whole_digits": "Enter a weight below 10,000.",
    "max_decimal_places": "Use at most 2 decimal places.",
}


def weight_field(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        label=MEMBERSHIP_LABELS["weight"],
        help_text=MEMBERSHIP_HELP["weight"],
        error_messages=WEIGHT_ERRORS,
        required=False,  # left empty: the member keeps its weight (1 for a new member)
        **kwargs,
    )


def _away_order(form: forms.Form, cleaned: dict) -> None:
    starts, ends = cleaned.get("away_from"), cleaned.get("away_until")
    if starts and ends and ends < starts:
        form.add_error("away_until", "The return date is before the first day away.")


class MembershipForm(forms.ModelForm):
    """What a manager may change about a member of their territory; an admin may also change their role."""

    class Meta:
        model = Membership
        fields = ["role", "max_accounts", "max_tier1_accounts", "weight", "away_from", "away_until", "is_active"]
        widgets = {
            "away_from": forms.DateInput(attrs={"type": "date"}),
            "away_until": forms.DateInput(attrs={"type": "date"}),
        }
        labels = MEMBERSHIP_LABELS
        help_texts = MEMBERSHIP_HELP

    weight = weight_field()

    def __init__(self, *args, may_set_role: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_set_role:
            del self.fields["role"]  # only RevOps admins appoint managers

    def clean(self):
        cleaned = super().clean()
        _away_order(self, cleaned)
        if cleaned.get("weight") is None and "weight" not in self.errors:
            cleaned["weight"] = self.instance.weight
        return cleaned


class MembershipAddForm(forms.Form):
    """A person joins a territory: reps (and, for admins, managers) who are not members yet, by full name."""

    user = forms.TypedChoiceField(coerce=int, label="Person", error_messages={"required": "Choose a person."})
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REP, label="Role")
    max_accounts = forms.IntegerField(
        min_value=0, required=False, label=MEMBERSHIP_LABELS["max_accounts"], help_text=MEMBERSHIP_HELP["max_accounts"]
    )
    max_tier1_accounts = forms.IntegerField(
        min_value=0,
        required=False,
        label=MEMBERSHIP_LABELS["max_tier1_accounts"],
        help_text=MEMBERSHIP_HELP["max_tier1_accounts"],
    )
    weight = weight_field(initial=Decimal(1))

    @staticmethod
    def already_in(territory) -> Q:
        """The people already members of `territory`: not offered."""
        return Q(memberships__territory=territory)

    def __init__(self, *args, territory: Territory, may_set_role: bool, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [REP, MANAGER] if may_set_role else [REP]
        people = (
            User.objects.filter(is_active=True, groups__name__in=roles)
            .exclude(self.already_in(territory))
            .distinct()
            .order_by("first_name", "last_name", "username")
            .prefetch_related("groups")
        )
        self.people = {u.pk: u for u in people}
        self.fields["user"].choices = [("", "Choose a person…")] + [
            (u.pk, u.get_full_name() or u.username) for u in self.people.values()
        ]
        self.role_of = {pk: {g.name for g in u.groups.all()} for pk, u in self.people.items()}
        if not may_set_role:
            self.fields["role"].choices = [(Membership.Role.REP, "Rep")]

    def clean(self):
        cleaned = super().clean()
        user_id, role = cleaned.get("user"), cleaned.get("role")
        if user_id is not None and role:
            wanted = MANAGER if role == Membership.Role.MANAGER else REP
            if wanted not in self.role_of.get(user_id, set()):
                label = self.people[user_id].get_full_name() or self.people[user_id].username
                self.add_error("role", f"{label} does not have the {wanted} role.")
        if user_id is not None:
            cleaned["person"] = self.people[user_id]
        if cleaned.get("weight") is None and "weight" not in self.errors:
            cleaned["weight"] = Decimal(1)
        return cleaned


class ReassignForm(forms.Form):
    account_ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one account."}
    )
    owner = forms.TypedChoiceField(
        coerce=int,
        choices=[],
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": "Choose one of the territory's active reps, or nobody."},
    )
    # Set by the confirmation page: the manager read that the new owner is away or at capacity.
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, account_choices, owner_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = account_choices
        self.fields["owner"].choices = [("", "— nobody (unassign) —"), *owner_choices]


# --- Territories (admins) --------------------------------------------------------------------------------------


class NamedAccountsField(forms.Field):
    """Accounts chosen with the search picker: their ids, sent as hidden inputs (never a list of every account)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise ValidationError("Choose the accounts from the search results.") from None

    def validate(self, value) -> None:
        super().validate(value)
        if value and Account.objects.filter(pk__in=value).count() != len(value):
            raise ValidationError("Some of the chosen accounts no longer exist: search for them again.")


class TerritoryForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name", error_messages={"required": "Give the territory a name."})
    parent = forms.ModelChoiceField(
        queryset=Territory.objects.none(),
        required=False,
        label="Parent territory",
        empty_label="None (a top-level territory)",
        help_text="Of the territories that match an account, the deepest wins.",
    )
    priority = forms.IntegerField(
        min_value=0,
        max_value=2_147_483_647,
        initial=100,
        label="Priority",
        help_text="Among territories at the same depth, lower numbers are matched first.",
        error_messages={"required": "Give a priority (100 if unsure)."},
    )
    strategy = forms.ChoiceField(
        choices=Territory.Strategy.choices,
        initial=Territory.Strategy.ROUND_ROBIN,
        label="Owner assignment",
        help_text="Round robin takes turns among the eligible reps; load balanced picks the least loaded.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active (routing places accounts here)")
    named_accounts = NamedAccountsField(required=False, label="Named accounts")

    def __init__(self, *args, territory: Territory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.territory = territory
        parents = Territory.objects.order_by("name")
        if territory is not None and territory.pk:
            parents = parents.exclude(pk__in=territory_descendant_ids(root_ids={territory.pk}))
        self.fields["parent"].queryset = parents
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.MultipleHiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            else:
                widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        same = Territory.objects.filter(name__iexact=name)
        if self.territory is not None:
            same = same.exclude(pk=self.territory.pk)
        if same.exists():
            raise ValidationError(f"A territory named {name} already exists.")
        return name

    @cached_property
    def chosen_accounts(self) -> list[tuple[int, str, str]]:
        """(id, name, domain) of the named accounts as the form holds them (as typed when shown again)."""
        if self.is_bound:
            raw = self.data.getlist(self.add_prefix("named_accounts")) if hasattr(self.data, "getlist") else []
            ids = [int(v) for v in raw if str(v).isdigit()]
        else:
            ids = list(self.initial.get("named_accounts") or [])
        if not ids:
            return []
        rows = Account.objects.filter(pk__in=ids).order_by("name", "id").values_list("pk", "name", "domain")
        return [(pk, name, domain or "") for pk, name, domain in rows]


def territory_initial(territory: Territory) -> dict:
    return {
        "name": territory.name,
        "parent": territory.parent_id,
        "priority": territory.priority,
        "strategy": territory.strategy,
        "is_active": territory.is_active,
        "named_accounts": list(territory.named_accounts.values_list("pk", flat=True)),
    }


class TerritoryEditor:
    """The territory form with its rules, written with the criterion builder of accounts (the ICP's): rules hold a
    group (rules sharing a group are alternatives; every group must match) and no points."""

    def __init__(self, data=None, *, territory: Territory | None = None):
        self.territory = territory
        initial = territory_initial(territory) if territory is not None else None
        self.form = TerritoryForm(data, territory=territory, initial=initial)
        self.rules = CriteriaFormSet(
            data,
            prefix="rules",
            items=(territory.criteria or []) if territory is not None else (),
            with_points=False,
            with_group=True,
            add_label="Add rule",
        )

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()  # both checked, so every error shows at once
        return self.rules.is_valid() and form_valid

    def values(self) -> dict:
        """What the services take: the territory's fields, its rules and the ids of its named accounts."""
        data = self.form.cleaned_data
        return {
            "name": data["name"].strip(),
            "parent": data["parent"],
            "priority": data["priority"],
            "strategy": data["strategy"],
            "is_active": data["is_active"],
            "criteria": self.rules.items(),
            "named_accounts": data["named_accounts"],
        }

    def add_errors(self, error: ValidationError) -> None:
        """A service's refusal, each message by its field (rule problems above the rules)."""
        for field, problems in error.message_dict.items():
            if field == "criteria":
                self.rule_errors = [*getattr(self, "rule_errors", []), *problems]
            else:
                self.form.add_error(field if field in self.form.fields else None, problems)


class UnroutedForm(forms.Form):
    """What an admin does with accounts in no territory: send them to a territory, or route them again."""

    account_ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one account."}
    )
    territory = forms.ModelChoiceField(
        queryset=Territory.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="Choose a territory…",
        label="Territory",
    )
    action = forms.ChoiceField(choices=[("send", "send"), ("route", "route")])

    def __init__(self, *args, account_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = account_choices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "send" and not cleaned.get("territory"):
            self.add_error("territory", "Choose the territory to send the accounts to.")
        return cleaned


class QuotaForm(forms.ModelForm):
    """A territory's quota for a period; the rules (order of days, amount, no duplicate) are the service's."""

    class Meta:
        model = Quota
        fields = ["territory", "period_start", "period_end", "amount"]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self):
        from .quotas import quota_problems

        cleaned = super().clean()
        problems = quota_problems(
            territory=cleaned.get("territory"),
            period_start=cleaned.get("period_start"),
            period_end=cleaned.get("period_end"),
            amount=cleaned.get("amount"),
            exclude_pk=self.instance.pk,
        )
        for field, message in problems.items():
            self.add_error(field, message)
        return cleaned

    def validate_unique(self):
        # clean() has said it in words; the model's generic constraint messages would only repeat it.
        pass
