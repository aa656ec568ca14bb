"""Plans, API keys and the monthly quota: who may render what, and how much."""
