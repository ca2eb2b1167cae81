from django.urls import path

from guanxi.search import views

app_name = "search"
urlpatterns = [path("", views.search, name="results")]
