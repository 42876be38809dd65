from django.urls import path

from atende.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.delivery_list, name="list"),
    path("<int:delivery_id>/", views.delivery_detail, name="detail"),
    path("<int:delivery_id>/reenviar/", views.delivery_resend_view, name="resend"),
    path("acoes/", views.action_list, name="actions"),
    path("acoes/<int:action_id>/testar/", views.action_test, name="test"),
    path("ocorrencia/<str:protocol>/", views.occurrence_messages, name="occurrence"),
]
