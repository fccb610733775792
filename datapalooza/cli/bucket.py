"""Lists and reads the objects of a local faces bucket (the objects.sqlite that `up`,
`edge --store` and `detect --store` write), as `aws s3 ls` and `aws s3api get-object`
do for the S3 bucket. `get` writes one object's body to a file and prints its metadata."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from datapalooza import constants
from datapalooza.cli import CliError

HELP = "list the face crops of a local bucket, or write one to a file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        type=Path,
        help="the bucket's directory, as given to edge or detect --store (default: "
        f"the bucket of `up`'s data directory, ${constants.ENV_DATA_DIR}/bucket or the "
        "per-user data directory's)",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("ls", help="each object's key and size, in key order")
    listing.add_argument(
        "prefix", nargs="?", default=constants.FACES_PREFIX, help="e.g. faces/main/"
    )
    get = actions.add_parser("get", help="write one object's body to a file")
    get.add_argument("key", help="the object's key, as `ls` prints it")
    get.add_argument("out", nargs="?", type=Path, help="the file (default: the key's name)")


def run(args: argparse.Namespace) -> int:
    from datapalooza.adapters.local.sqlite_face_store import OBJECTS_FILE, SqliteFaceStore
    from datapalooza.domain.keys import InvalidKey
    from datapalooza.festival.layout import DataLayout, chosen_data_dir
    from datapalooza.ports import ObjectMissing, StoreError
    from datapalooza.system.atomic_write import write_atomically

    root = args.store or DataLayout(chosen_data_dir(None, os.environ)).bucket
    if not (root / OBJECTS_FILE).is_file() and not (root / constants.FACES_PREFIX).is_dir():
        raise CliError(f"no bucket in {root} (no {OBJECTS_FILE}); pass the right --store")
    store = SqliteFaceStore(root)
    try:
        if args.action == "ls":
            for key, size in store.listing(args.prefix):
                print(f"{size:>9,}  {key}")
            return 0
        body, metadata = store.get(args.key)
    except InvalidKey as exc:
        raise CliError(str(exc)) from exc
    except ObjectMissing as exc:
        raise CliError(f"no object {args.key} in {root}") from exc
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    out = args.out or Path(args.key.rsplit("/", 1)[-1])
    write_atomically(out, body)  # readable by its owner only, as in the bucket
    print(json.dumps({"Key": args.key, "ContentLength": len(body), "Metadata": metadata}))
    return 0
