"""A small FastAPI service that applies the agentkb backend recommendations.

The guides import it so every snippet they show is code that runs and is tested.
Start with :func:`reference_api.app.create_app`.
"""
