"""The CDK app: `python cdk/app.py` synthesizes the inbox stack into cdk.out/.

Context:
- `inbox:assets` = `build` (deploy: what `make build` made) or `source` (tests, `make synth`,
  the local stack: the plain source directories, no third-party dependencies bundled).
- `inbox:stack_name` (default `Inbox`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared" / "python")]

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from cdk.inbox_stack import AssetSource, InboxStack  # noqa: E402


def main() -> None:
    # The CDK CLI says where to write through CDK_OUTDIR; run directly, write to ./cdk.out.
    app = cdk.App(outdir=None if "CDK_OUTDIR" in os.environ else str(ROOT / "cdk.out"))
    assets = AssetSource(app.node.try_get_context("inbox:assets") or "source", root=ROOT)
    InboxStack(app, app.node.try_get_context("inbox:stack_name") or "Inbox", assets=assets)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
