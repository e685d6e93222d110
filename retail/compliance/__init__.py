"""Compliance context.

AML rules, alerts and cases, COAF export, retention and the PII access log
(Circular 3.978/2020, LGPD). Customers and ordinary staff never see its data.
"""
