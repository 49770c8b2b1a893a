"""The classroom: the dashboard, the shared class world and its server, and their charts."""
