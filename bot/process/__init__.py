"""Process entry points: the CLI, the web app under gunicorn, the worker, cron and their runtime."""
