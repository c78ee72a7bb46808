"""HTTP endpoints of the assistant (aiohttp route handlers; the server is assembled elsewhere)."""
