"""The web dashboard: server-rendered pages with Plotly charts, served next to the REST API.

Pages read through the same access layer as the API (``payvider.api.access``), so the same role
rules, small-cell suppression and audit apply. Plotly's JavaScript is served from the installed
``plotly`` package; nothing is fetched from the network.
"""
