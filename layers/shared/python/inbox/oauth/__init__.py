"""Gmail and Office 365 accounts connect through their providers' OAuth flows (CONTRACT.md, "OAuth").

- `apps`: the product's own OAuth apps (client id and secret) at Google and Microsoft;
- `grants`: what a provider's flow gives and how it fails, whatever the provider;
- `google` (google-auth) and `microsoft` (msal): each provider's flow, refresh and address;
- `session`: the HTTP session both libraries take, trusting what `inbox.trust` trusts;
- `states`: the single-use `state` of a connect flow;
- `connect`: start and callback, creating or reconnecting the account;
- `tokens`: an account's access token, refreshed under a lease so two callers never both refresh.

The provider libraries are imported only inside these modules' functions: a handler that never
connects or calls an OAuth account never loads them.
"""
