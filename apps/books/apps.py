from django.apps import AppConfig


class BooksConfig(AppConfig):
    name = "apps.books"
    verbose_name = "Books"
