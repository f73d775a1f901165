"""The base of the package's pydantic models.

Each model builds its validator and serializer on first use, not when its module is imported: a
function imports many models it never uses on its hot path (the router's models load with the
conversation's, the API's with every router), and building them all cost every cold start tens of
milliseconds (`benchmarks/cold_start_local.py`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
