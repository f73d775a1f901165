"""The table's key layout: one definition read by the CDK stack (which creates the table) and by
the data access (which reads and writes it). The local stack builds its table from the template."""

from __future__ import annotations

from dataclasses import dataclass

PARTITION_KEY = "pk"
SORT_KEY = "sk"
# Items carrying this attribute (epoch seconds) are removed by DynamoDB after that time.
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: str
    sort_key: str


# Overloaded indexes: each item type decides what it projects into which one (see the store
# modules). Declared up front because CloudFormation adds only one index per table update.
GLOBAL_INDEXES = (
    GlobalIndex("gsi1", "gsi1pk", "gsi1sk"),
    GlobalIndex("gsi2", "gsi2pk", "gsi2sk"),
    GlobalIndex("gsi3", "gsi3pk", "gsi3sk"),
)
