"""Checkpoints: each finished chunk of an ensemble kept on disk, so that an interrupted one resumes where it stopped.

A checkpoint is the folder ``.<out>.partial`` beside a job's output: a ``plan.json`` naming the job (so that the
chunks of another job are never mixed in), and one file per finished chunk of each design point, written aside
and moved into place, so that a chunk is there whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from sim.runs.chunks import Chunk, SetupError
from sim.runs.results import Aggregate, series_named
from sim.runs.tally import StrategyTally

ROW_GROUP = 1 << 18  # rows per row group of a trajectories file
OWN = re.compile(r"plan\.json(\.tmp)?|p\d{5}-r\d{12}\.(npz|parquet)(\.tmp)?")  # what a Checkpoint writes


class Checkpoint:
    """Finished chunks on disk: each one's Aggregate (.npz) and, if asked, its trajectories (.parquet).

    ``identity`` says what the chunks are of (scenarios, runs, seed, chunking
    ...); a folder made for anything else is never mixed in.
    """

    def __init__(self, folder: Path, identity: Mapping[str, object]) -> None:
        """The chunks in ``folder`` of the run ``identity`` describes (``open`` checks the folder)."""
        self.folder = Path(folder)
        self.identity = identity

    @classmethod
    def open(cls, folder: Path, identity: Mapping[str, object], resume: bool, force: bool) -> Checkpoint:
        """The checkpoint in ``folder``: its finished chunks kept if ``resume``, discarded if ``force``.

        Raises:
            SetupError: the folder is something else, holds another run's chunks or files Bamboo did not write,
                or holds an interrupted run and neither ``resume`` nor ``force`` is given.
        """
        store = cls(folder, identity)
        plan = store.folder / "plan.json"
        if store.folder.is_symlink() or (store.folder.exists() and not store.folder.is_dir()):
            raise SetupError(f"{store.folder}: expected the folder of finished chunks, found something else there")
        if store.folder.exists() and not any(store.folder.glob("*.npz")):
            store.discard()  # nothing was finished: nothing to keep
            store._refuse_foreign()
        if store.folder.exists():
            if resume:
                try:
                    made = json.loads(plan.read_text())
                except (OSError, ValueError):
                    made = None
                if made != identity:
                    raise SetupError(
                        f"{store.folder}: finished chunks of a different run; {_differences(made, identity)}"
                    )
                return store
            if not force:
                raise SetupError(
                    f"{store.folder}: holds finished chunks of an interrupted run; "
                    "add --resume to continue it or --force to start again"
                )
            store.discard()
            store._refuse_foreign()
        return store

    def _refuse_foreign(self) -> None:
        """Refuse a folder still there once the files this class writes are gone."""
        if self.folder.exists():
            raise SetupError(f"{self.folder}: holds files Bamboo did not write; move them to start again")

    def _stem(self, point: int, chunk: Chunk) -> Path:
        """The chunk's files, without their suffix."""
        return self.folder / f"p{point:05d}-r{chunk.first_run:012d}"

    def finished(self, point: int, chunk: Chunk) -> bool:
        """Whether the chunk of design point ``point`` was saved whole."""
        return self._stem(point, chunk).with_suffix(".npz").exists()

    def load(self, point: int, chunk: Chunk) -> Aggregate:
        """A saved chunk's Aggregate, as it was saved."""
        with np.load(self._stem(point, chunk).with_suffix(".npz")) as f:
            agg = Aggregate(int(f["steps"]), series_named(str(k) for k in f["series"]))
            agg.runs = int(f["runs"])
            for key in agg.hist:
                agg.hist[key][...] = f[f"hist_{key}"]
                agg.sums[key][...] = f[f"sums_{key}"]
            agg.tiers[...], agg.failures[...] = f["tiers"], f["failures"]
            agg.dropped_by_power = int(f["dropped_by_power"]) if "dropped_by_power" in f else 0
            if "tally_names" in f:
                agg.tally = StrategyTally(tuple(str(n) for n in f["tally_names"]))
                agg.tally.runs = int(f["tally_runs"])
                for key in StrategyTally.ARRAYS:
                    getattr(agg.tally, key)[...] = f[f"tally_{key}"]
        return agg

    def _start(self) -> None:
        """The folder and its plan, made with the first finished chunk, so a failed start leaves nothing."""
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            _replace(self.folder / "plan.json", lambda f: f.write(json.dumps(self.identity, indent=2).encode() + b"\n"))

    def save(self, point: int, chunk: Chunk, agg: Aggregate, table: bytes | None) -> None:
        """Trajectories first, then the aggregate; each written aside and renamed, so a chunk is whole or absent."""
        self._start()
        stem = self._stem(point, chunk)
        if table is not None:
            _replace(stem.with_suffix(".parquet"), lambda f: f.write(table))
        # counts in the narrowest type that holds them (read back into int64): a chunk takes milliseconds to save
        arrays: dict[str, npt.ArrayLike] = {
            f"hist_{k}": v.astype(np.min_scalar_type(int(v.max()))) for k, v in agg.hist.items()
        }
        arrays |= {f"sums_{k}": v for k, v in agg.sums.items()}
        arrays |= {"tiers": agg.tiers, "failures": agg.failures, "runs": agg.runs, "steps": agg.steps}
        arrays |= {"dropped_by_power": agg.dropped_by_power}
        if agg.tally is not None:
            arrays |= {f"tally_{key}": getattr(agg.tally, key) for key in StrategyTally.ARRAYS}
            arrays |= {"tally_names": np.array(agg.tally.names), "tally_runs": agg.tally.runs}
        _replace(stem.with_suffix(".npz"), lambda f: _savez(f, series=np.array(list(agg.hist)), **arrays))

    def save_arrays(self, point: int, chunk: Chunk, arrays: dict[str, np.ndarray]) -> None:
        """A chunk's per-point outcomes of a design (``sim.runs.explore``), written whole or not at all."""
        self._start()

        def write(f: IO[bytes]) -> None:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub lets **arrays fill allow_pickle

        _replace(self._stem(point, chunk).with_suffix(".npz"), write)

    def load_arrays(self, point: int, chunk: Chunk) -> dict[str, np.ndarray]:
        """A chunk's per-point outcomes of a design, as saved."""
        with np.load(self._stem(point, chunk).with_suffix(".npz")) as f:
            return {k: f[k] for k in f.files}

    def join_trajectories(self, point: int, parts: list[Chunk], path: Path) -> Path:
        """One Parquet file of a point's trajectories, in row groups of ROW_GROUP rows whatever the chunking.

        The chunks' rows follow one another in run order; regrouping them in
        fixed groups makes the file the same bytes for any chunk size. At most
        one group and one chunk's row group are in memory at a time.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer, pending = None, None
        for chunk in parts:
            part = pq.ParquetFile(self._stem(point, chunk).with_suffix(".parquet"))
            for i in range(part.num_row_groups):
                table = part.read_row_group(i)
                pending = table if pending is None else pa.concat_tables([pending, table])
                writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
                while pending.num_rows >= ROW_GROUP:
                    writer.write_table(pending.slice(0, ROW_GROUP).combine_chunks(), row_group_size=ROW_GROUP)
                    pending = pending.slice(ROW_GROUP)
            part.close()
        if writer is not None:  # as soon as a row group was read: pending is not None either
            if pending is not None and pending.num_rows:
                writer.write_table(pending.combine_chunks(), row_group_size=ROW_GROUP)
            writer.close()
        return path

    def count(self) -> int:
        """Finished chunks kept."""
        return len(list(self.folder.glob("*.npz"))) if self.folder.is_dir() else 0

    def discard(self) -> None:
        """Remove the files this class writes, then the folder if nothing else is in it."""
        if self.folder.is_symlink() or not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if OWN.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()
        with contextlib.suppress(OSError):
            self.folder.rmdir()


def _savez(f: IO[bytes], **arrays: npt.ArrayLike) -> None:
    """``np.savez_compressed`` at the fastest deflate level: a chunk's histograms are mostly zeros."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, value in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)


def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` by ``write`` to a file beside it, then rename it: the file is whole or absent."""
    aside = path.with_name(path.name + ".tmp")
    with open(aside, "wb") as f:
        write(f)
    os.replace(aside, path)


def _differences(made: object, wanted: Mapping[str, object]) -> str:
    """What differs between the plan a folder was ``made`` for (None: unreadable) and the one ``wanted``."""
    if not isinstance(made, dict):
        return "its plan.json is missing or unreadable; use --force to start again"
    keys = [k for k in wanted if made.get(k) != wanted[k]] or ["(plan)"]
    told = "; ".join(f"{k}: {made.get(k)!r} there, {wanted.get(k)!r} now" for k in keys)
    return f"{told}. Run again with the same settings, or use --force to discard them"
