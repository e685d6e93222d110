"""Channels context.

Sales channels (web, app, POS) and marketplace partners, their hashed API keys and
webhook secrets. It does not own orders; it only says who is calling.
"""
