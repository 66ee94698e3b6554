from django.http import HttpResponse

from core.decorators import role_required
from core.roles import ADMIN

from .selectors import access_account, account_list


@role_required()
def account_index(request):
    return HttpResponse(", ".join(account_list(user=request.user).values_list("name", flat=True)[:50]))


@role_required()
def account_detail(request, account_id: int):
    return HttpResponse(access_account(user=request.user, account_id=account_id).name)


@role_required(ADMIN)
def import_new(request):
    return HttpResponse("imports")
