from django.apps import AppConfig


class WireapiConfig(AppConfig):
    name = "wireapi"
    verbose_name = "DynamoDB wire protocol"
