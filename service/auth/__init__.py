"""Who a dashboard request comes from, besides API keys (``intake.py``): bearer JWTs."""
