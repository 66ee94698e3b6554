from django.urls import path

from . import tier_views

urlpatterns = [
    path("", tier_views.tier_list, name="tier-list"),
    path("export.csv", tier_views.tier_export, name="tier-export"),
    path("movement/", tier_views.tier_movement, name="tier-movement"),
    path("movement/moves/", tier_views.tier_move_list, name="tier-moves"),
    path("movement/moves.csv", tier_views.tier_move_export, name="tier-moves-export"),
]
