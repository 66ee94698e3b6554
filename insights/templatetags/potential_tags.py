"""What the account page shows of an account's spend potential, and how it was made."""

from __future__ import annotations

from django import template

from accounts.tables import loaded_or

from ..models import AccountPotential
from ..potential import potential_figures
from ..selectors import potential_basis

register = template.Library()


@register.simple_tag
def account_potential(account) -> dict | None:
    """{potential, figures, basis} for the account; None when no refresh has computed it yet."""
    potential = loaded_or(account, "potential", lambda: AccountPotential.objects.filter(account=account).first())
    if potential is None:
        return None
    return {
        "potential": potential,
        "figures": potential_figures(
            win_probability=potential.win_probability,
            deal_size=potential.deal_size,
            expected_value=potential.expected_value,
        ),
        "basis": potential_basis(potential=potential, industry=account.industry),
    }
