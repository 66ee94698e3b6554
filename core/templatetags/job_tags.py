"""A job's result in words on its page (core.jobs.job_result_view)."""

from django import template

from ..jobs import job_result_view

register = template.Library()


@register.simple_tag
def job_result(job) -> dict:
    return job_result_view(job)
