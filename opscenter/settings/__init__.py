"""Settings profiles: base.py reads the environment; development, production and test overlay it."""
