"""`aelab list-models`: every registered model with its one-line description."""

import aelab


def add_parser(sub):
    p = sub.add_parser("list-models", help="list the registered models")
    p.set_defaults(func=run)


def run(args) -> int:
    for name in aelab.list_models():
        doc = (aelab.get_model_class(name).__doc__ or "").strip().splitlines()
        print(f"{name:14s} {doc[0] if doc else ''}")
    return 0
