"""The webshop: its REST client (docs/CONTRACT.md) and the side the engine syncs with."""
