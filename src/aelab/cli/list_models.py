"""`aelab list-models`: every registered model with its one-line description."""

from aelab.models import get_model_class, list_models


def add_parser(sub):
    p = sub.add_parser("list-models", help="list the registered models")
    p.set_defaults(func=run)


def run(args) -> int:
    for name in list_models():
        doc = (get_model_class(name).__doc__ or "").strip().splitlines()
        print(f"{name:14s} {doc[0] if doc else ''}")
    return 0
