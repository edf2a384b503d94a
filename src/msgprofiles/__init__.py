"""msgprofiles: the profiles side of a messaging platform."""

__version__ = "0.1.0"
