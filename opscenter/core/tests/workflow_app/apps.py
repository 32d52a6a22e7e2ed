from django.apps import AppConfig


class WorkflowAppConfig(AppConfig):
    name = "opscenter.core.tests.workflow_app"
    label = "workflow_app"
