"""inbox: the domain, data access and channel clients of the multichannel shared inbox.

Shipped to Lambda as the shared layer (without `inbox.local` and `inbox.cli`, which are the
local stack and the command-line tool).
"""
