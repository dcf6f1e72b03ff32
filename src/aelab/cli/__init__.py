"""The ``aelab`` command line. Each subcommand is one module exposing
``add_parser(subparsers)``; its parser's ``func`` runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

import torch

from aelab.cli import (
    cluster,
    demo,
    detect,
    encode,
    evaluate,
    hash,
    impute,
    list_models,
    pretrain,
    recommend,
    report,
    sample,
    train,
)
from aelab.core.optional import MissingExtra
from aelab.core.version import __version__

COMMANDS = [list_models, train, evaluate, encode, sample, pretrain, detect, cluster, recommend,
            impute, report, hash, demo]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aelab", description="Train, evaluate and use autoencoders.")
    parser.add_argument("--version", action="version", version=f"aelab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every epoch")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch (default: torch's choice; 1 is fastest for "
                             "small models and on a busy machine)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1; got {args.threads}.")
        torch.set_num_threads(args.threads)
    try:
        return args.func(args) or 0
    except (ValueError, TypeError, OSError, MissingExtra) as err:  # OSError: e.g. a full disk
        print(f"aelab {args.command}: error: {err}", file=sys.stderr)
        return 2
