from django.urls import path

from . import views

urlpatterns = [
    path("", views.account_index, name="account-list"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("imports/new/", views.import_new, name="import-new"),
]
