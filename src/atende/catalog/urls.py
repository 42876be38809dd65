from django.urls import path

from atende.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.start, name="start"),
    path("<int:operator_id>/", views.index, name="index"),
    path("<int:operator_id>/tipos/novo/", views.type_new, name="type_new"),
    path("<int:operator_id>/tipos/<int:pk>/", views.type_detail, name="type"),
    path("<int:operator_id>/<str:kind>/em/<int:parent>/novo/", views.child_new, name="child_new"),
    path("<int:operator_id>/item/<str:kind>/<int:pk>/", views.child_edit, name="child_edit"),
    path("<int:operator_id>/acoes/<int:pk>/segredo/", views.action_rotate, name="action_rotate"),
    path("<int:operator_id>/calendarios/<int:pk>/folgas/", views.days_off, name="days_off"),
    path("<int:operator_id>/formularios/novo/", views.form_new, name="form_new"),
    path("<int:operator_id>/formularios/previa/", views.form_preview, name="form_preview"),
    path("<int:operator_id>/formularios/<int:pk>/", views.form_edit, name="form"),
    path("<int:operator_id>/<str:kind>/", views.record_list, name="records"),
    path("<int:operator_id>/<str:kind>/novo/", views.record_new, name="record_new"),
    path("<int:operator_id>/<str:kind>/<int:pk>/", views.record_edit, name="record_edit"),
]
