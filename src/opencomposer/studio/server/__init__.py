"""The studio's HTTP server: the FastAPI app (`app.create_app`), one router per resource under `routes/`."""
