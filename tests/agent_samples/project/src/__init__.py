"""The project the sonnet-typescript-fastapi agent's Python samples are written for.

Only the modules they import, made of real objects: SQLAlchemy 2 on SQLite
through aiosqlite, Pydantic v2, FastAPI, Argon2 through pwdlib. The set-up
``fastapi_project`` puts it on ``sys.path`` for one sample and forgets it after.
"""
