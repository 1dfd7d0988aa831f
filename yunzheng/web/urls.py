from django.urls import path

from . import calendar_pages, homes, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("calendar/", calendar_pages.calendar_years_page, name="calendar_years"),
    path("calendar/enter/", calendar_pages.calendar_year_enter_page, name="calendar_enter"),
    path("calendar/<int:year>/", calendar_pages.calendar_year_page, name="calendar_year"),
    path("calendar/<int:year>/confirm/", calendar_pages.calendar_year_confirm_page, name="calendar_confirm"),
    path("home/", homes.my_home, name="my_home"),
    path("home/driver/", homes.driver_home, name="driver_home"),
    path("home/company/", homes.company_pick, name="company_pick"),
    path("home/company/<int:pk>/", homes.company_home, name="company_home"),
    path("workbench/", homes.workbench, name="workbench"),
]
