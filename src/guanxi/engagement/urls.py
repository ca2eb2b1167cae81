from django.urls import path

from guanxi.engagement import views

app_name = "engagement"
urlpatterns = [path("log/<int:customer_id>/", views.interaction_log, name="log")]
