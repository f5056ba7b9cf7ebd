"""Deliveries to handlers: the router, the payload reader and the context handlers get."""
