"""A local OpenCost: meters each user's server process tree and answers the allocation API.

For JupyterHub on one machine (``hub_config/local_config.py``): the hub starts it as a managed
service; it learns the user servers' PIDs from the hub API, samples their process trees with psutil
(CPU seconds, resident memory), prices them at OpenCost's default rates and keeps per-minute history
in sqlite. The user servers' ordinary OpenCost backend reads ``GET <prefix>allocation`` from it.
"""
