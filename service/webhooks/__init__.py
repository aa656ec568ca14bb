"""Signed webhooks: subscriptions, the durable event queue and the delivery workers."""
