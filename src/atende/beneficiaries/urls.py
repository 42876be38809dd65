from django.urls import path

from atende.beneficiaries import views

app_name = "beneficiaries"

CONFIG = "configuracao/<int:operator_id>/beneficiarios"

urlpatterns = [
    path("beneficiarios/", views.search, name="search"),
    path("beneficiarios/<int:pk>/", views.detail, name="detail"),
    path("beneficiarios/<int:pk>/anonimizar/", views.anonymise, name="anonymise"),
    path(f"{CONFIG}/importar/", views.imports, name="imports"),
    path(f"{CONFIG}/importacoes/<int:pk>/", views.import_detail, name="import"),
    path(f"{CONFIG}/importacoes/<int:pk>/erros.csv", views.import_problems, name="import_problems"),
    path(f"{CONFIG}/grupos/", views.groups, name="groups"),
    path(f"{CONFIG}/produtos/<int:pk>/", views.product, name="product"),
    path(f"{CONFIG}/criticas/", views.critique_settings, name="critiques"),
]
