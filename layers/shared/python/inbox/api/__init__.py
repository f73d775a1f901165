"""The HTTP API: Powertools resolver, routes per product concept, errors mapped in one place."""
