"""The national action plan as data, and activities recorded against its indicators."""
