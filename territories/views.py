from django.http import HttpResponse

from core.decorators import role_required
from core.roles import ADMIN, MANAGER

from .selectors import territory_list


@role_required(MANAGER, ADMIN)
def territory_index(request):
    return HttpResponse(", ".join(territory_list(user=request.user).values_list("name", flat=True)))
