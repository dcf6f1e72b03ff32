"""`aelab hash fit|index|query`: semantic hashing of text files (one document per file in a
directory, or one per line of a text file)."""

from __future__ import annotations

from pathlib import Path

from aelab.cli.options import Formatter
from aelab.sklearn.hasher import SemanticHasher


def read_texts(source) -> list[str]:
    """Every file under a directory (sorted, latin-1), or the lines of one text file."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if not files:
            raise ValueError(f"{source!r} holds no files: pass a directory of text files.")
        return [p.read_text(encoding="latin-1") for p in files]
    if path.is_file():
        return path.read_text(encoding="latin-1").splitlines()
    raise ValueError(f"{source!r} is neither a directory of texts nor a text file.")


def add_parser(sub):
    p = sub.add_parser("hash", help="semantic hashing of texts: fit, index, query",
                       formatter_class=Formatter)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    fit = actions.add_parser("fit", help="learn binary codes from texts", formatter_class=Formatter)
    fit.add_argument("--texts", required=True, help="directory of text files, or a file of lines")
    fit.add_argument("--bits", type=int, default=32, help="code length")
    fit.add_argument("--model", default="semantic_hashing", choices=["semantic_hashing", "nash"])
    fit.add_argument("--vocabulary-size", type=int, default=2000)
    fit.add_argument("--neighbors", type=int, default=100,
                     help="reconstruct each document pooled with this many nearest documents' "
                          "words (0: its own words only)")
    fit.add_argument("--epochs", type=int, default=15)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--out", required=True, help="directory to save the hasher to")
    fit.set_defaults(func=run_fit)
    index = actions.add_parser("index", help="hash texts into a saved hasher's table",
                               formatter_class=Formatter)
    index.add_argument("hasher_dir")
    index.add_argument("--texts", required=True, help="directory of text files, or a file of lines")
    index.set_defaults(func=run_index)
    query = actions.add_parser("query", help="documents near a query text", formatter_class=Formatter)
    query.add_argument("hasher_dir")
    query.add_argument("text", help="the query text")
    group = query.add_mutually_exclusive_group(required=True)
    group.add_argument("--radius", type=int, help="hash-table lookup within this Hamming radius")
    group.add_argument("-k", type=int, help="the k Hamming-nearest documents")
    query.set_defaults(func=run_query)


def run_fit(args) -> int:
    hasher = SemanticHasher(model=args.model, n_bits=args.bits,
                            vocabulary_size=args.vocabulary_size, neighbors=args.neighbors,
                            epochs=args.epochs,
                            random_state=args.seed).fit(read_texts(args.texts))
    hasher.save(args.out)
    print(f"saved a {args.bits}-bit {args.model} hasher to {args.out}")
    return 0


def run_index(args) -> int:
    hasher = SemanticHasher.load(args.hasher_dir).index(read_texts(args.texts))
    hasher.save(args.hasher_dir)
    print(f"indexed {len(hasher.index_)} documents in {args.hasher_dir}")
    return 0


def run_query(args) -> int:
    hasher = SemanticHasher.load(args.hasher_dir)
    ids = hasher.query([args.text], radius=args.radius, k=args.k)[0]
    print(" ".join(str(int(i)) for i in ids))
    return 0
