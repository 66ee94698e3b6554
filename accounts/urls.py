from django.urls import path

from . import duplicate_views, import_views, views

urlpatterns = [
    path("", views.account_index, name="account-list"),
    path("export.csv", views.account_export, name="account-export"),
    path("topics/refresh/", views.topic_refresh, name="topic-refresh"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("<int:account_id>/opportunities/", views.account_opportunities, name="account-opportunities"),
    path("duplicates/", duplicate_views.duplicate_list, name="account-duplicates"),
    path("duplicates/<int:pair_id>/merge/", duplicate_views.duplicate_merge, name="account-duplicate-merge"),
    path("imports/new/", import_views.import_new, name="import-new"),
    path("imports/map/", import_views.import_map, name="import-map"),
    path("imports/<int:job_id>/rejected.csv", import_views.import_rejects, name="import-rejects"),
]
