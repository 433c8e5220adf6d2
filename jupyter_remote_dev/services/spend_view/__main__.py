from .app import SpendViewApp

SpendViewApp.launch_instance()
