"""我的待办: what is each user's to do now (look-backs, problems, reviews, queued reports)."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.todos import routes

    routes.register_routes(app)
