"""The REST API over a workspace's runs: datasets, settlements and exports, with roles and audit.

``payvider.api.app.create_app`` builds the FastAPI application; the dashboard
(``payvider.web``) mounts on the same application and reads through the same access layer
(``payvider.api.access``), so role rules, suppression and audit apply to both.
"""
