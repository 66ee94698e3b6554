from django.db.models import QuerySet
from django.http import Http404

from .models import Job
from .roles import has_role, is_admin


def job_list(*, user) -> QuerySet[Job]:
    """Admins see every job; other users the jobs they started."""
    if is_admin(user):
        return Job.objects.select_related("created_by")
    if not has_role(user):
        return Job.objects.none()
    return Job.objects.filter(created_by=user).select_related("created_by")


def access_job(*, user, job_id: int) -> Job:
    try:
        return job_list(user=user).get(pk=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None
