"""HTTP layer: thin aiohttp handlers over the use-cases."""
