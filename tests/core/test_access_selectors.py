import pytest
from django.http import Http404

from accounts.selectors import access_account, account_list, contact_list, opportunity_list, signal_list

from ..factories import ContactFactory, OpportunityFactory, SignalFactory

USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]


@pytest.mark.parametrize("name", USERS)
def test_account_list_follows_the_role_matrix(world, name):
    user = getattr(world, name)
    assert set(account_list(user=user).values_list("pk", flat=True)) == world.accounts_visible_to(name)


@pytest.mark.parametrize("name", USERS)
def test_children_of_accounts_are_scoped_the_same_way(world, name):
    for account in [world.owned_by_rep, world.north_account, world.north_east_account, world.south_account]:
        ContactFactory(account=account)
        SignalFactory(account=account)
        OpportunityFactory(account=account)
    user = getattr(world, name)
    expected = world.accounts_visible_to(name)
    expected.discard(world.unrouted_account.pk)
    for selector in (contact_list, signal_list, opportunity_list):
        assert set(selector(user=user).values_list("account_id", flat=True)) == expected


@pytest.mark.parametrize("name", USERS)
def test_access_account_hides_what_the_user_may_not_see(world, name):
    user = getattr(world, name)
    visible = world.accounts_visible_to(name)
    for account in [world.owned_by_rep, world.north_account, world.north_east_account, world.south_account]:
        if account.pk in visible:
            assert access_account(user=user, account_id=account.pk) == account
        else:
            with pytest.raises(Http404):
                access_account(user=user, account_id=account.pk)


def test_inactive_membership_and_inactive_user_see_nothing_more(world):
    world.north_rep.memberships.update(is_active=False)
    # Only the account they own is left; the territory's other accounts are gone.
    assert set(account_list(user=world.north_rep).values_list("pk", flat=True)) == {world.north_account.pk}
    world.admin.is_active = False
    world.admin.save(update_fields=["is_active"])
    assert account_list(user=world.admin).count() == 0


def test_superuser_sees_everything_without_a_group(world):
    world.outsider.is_superuser = True
    world.outsider.save(update_fields=["is_superuser"])
    assert account_list(user=world.outsider).count() == 5
