"""`aelab report`: one self-contained HTML page for runs written by `aelab train`."""

from __future__ import annotations

from aelab.cli.options import Formatter
from aelab.core.io import atomic_write_bytes
from aelab.report.html import runs_report


def add_parser(sub):
    p = sub.add_parser("report", help="one self-contained HTML page for saved runs",
                       formatter_class=Formatter)
    p.add_argument("runs", nargs="+", help="directories written by `aelab train` or `aelab pretrain`")
    p.add_argument("--out", required=True, help="output .html file")
    p.add_argument("--title", default="aelab runs", help="page title")
    p.set_defaults(func=run)


def run(args) -> int:
    page = runs_report(args.runs, title=args.title)
    atomic_write_bytes(args.out, page.encode())
    print(f"wrote {args.out} ({len(args.runs)} run(s), {len(page) / 1e6:.1f} MB)")
    return 0
