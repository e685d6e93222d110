"""Stand-ins for the outside world (legacy monolith, PSP, marketplace partner).

Separate processes started with ``python -m sandbox.<name>``; they never import Rastro's code.
"""
