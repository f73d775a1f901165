"""The `state` of OAuth connect flows in the table, each usable once.

`pk = OAUTH_STATE#<sha256 of the state>, sk = STATE`: who started the flow, for which provider and
account, where to send the admin back, and what the provider's library needs at the callback
(MSAL's auth-code flow, with its PKCE verifier). Only the hash is a key, so the table alone never
gives a usable state. `take` deletes the item as it reads it: a replayed state finds nothing.
The TTL attribute (a minute after `valid_until`) lets DynamoDB remove states never used.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from inbox.oauth.states import PendingConnect
from inbox.store import dynamo, items
from inbox.store.schema import TTL_ATTRIBUTE


def state_key(state: str) -> dict[str, str]:
    digest = hashlib.sha256(state.encode()).hexdigest()
    return items.key(f"OAUTH_STATE#{digest}", "STATE")


class OAuthStateStore:
    def __init__(self, table: Any | None = None) -> None:
        self.table = table if table is not None else dynamo.table()

    def put(self, state: str, pending: PendingConnect) -> None:
        item = items.to_item(pending.model_copy(update={"flow": {}}), **state_key(state))
        item["flow"] = json.dumps(pending.flow)  # MSAL's dict as it made it (floats, nesting)
        item[TTL_ATTRIBUTE] = int(pending.valid_until.timestamp()) + 60
        self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")

    def take(self, state: str) -> PendingConnect | None:
        """The flow the state names, removed so that it serves once; None when there is none."""
        try:
            answer = self.table.delete_item(
                Key=state_key(state), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None
        item = dict(answer["Attributes"])
        flow = json.loads(item.pop("flow", "{}"))
        pending = items.from_item(PendingConnect, item)
        return pending.model_copy(update={"flow": flow})
