"""The gazetteer's compact form: places by column, names in a hashed index, one checked file on disk.

A built gazetteer (:mod:`geo.text.gazetteer`) has some 200 000 places and 650 000 name keys.
As Python objects that is ~1 GB and seconds to load; here it is a few NumPy arrays:

- :class:`Entries`: the places by column; ``entries[i]`` makes the :class:`Place` on demand;
- :class:`NameIndex`: folded name -> entry ids, as 64-bit BLAKE2b hashes of the keys sorted
  for binary search, with the ids in one array (CSR) and the keys in one UTF-8 blob to check
  hits against and to iterate;

saved as one checked, versioned file (:mod:`geo.cachefile`, no pickle) that loads in a
fraction of a second.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence, Sized
from hashlib import blake2b
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .. import cachefile
from ..core.place import Place

FORMAT = "corridormap-gazetteer/5"

#: Entry fields stored as codes into a small vocabulary (few distinct values).
_CODED = ("country", "feature_class", "feature_code", "admin1", "layer_id")
_TEXT = ("name", "local_name")
_MEMO_LIMIT = 200_000


def name_hash(key: str) -> int:
    """Stable 64-bit hash of a name key (the same in every process, unlike ``hash``)."""
    return int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _hashes(keys: Sequence[str]) -> np.ndarray:
    """:func:`name_hash` of every key, as one array."""
    digests = b"".join(blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


class Texts(Sequence):
    """Strings kept as one UTF-8 blob and their end offsets; ``texts[i]`` decodes one on demand."""

    def __init__(self, blob, ends: np.ndarray):
        self._blob, self._ends = blob, ends
        self._fast: tuple[bytes, list[int]] | None = None  # the blob as bytes and offsets as a list, on first use

    @classmethod
    def from_list(cls, values: Sequence[str]) -> Texts:
        raw = [v.encode("utf-8") for v in values]
        return cls(b"".join(raw), np.cumsum(np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))))

    def raw(self, i: int) -> bytes:
        """The UTF-8 bytes of string ``i``."""
        if self._fast is None:
            self._fast = bytes(self._blob), [0, *self._ends.tolist()]
        blob, bounds = self._fast
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return blob[bounds[i]:bounds[i + 1]]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.raw(i).decode("utf-8")

    def __len__(self) -> int:
        return len(self._ends)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The blob and offsets as arrays named ``<prefix>blob`` and ``<prefix>ends``."""
        return {f"{prefix}blob": np.frombuffer(bytes(self._blob), dtype=np.uint8), f"{prefix}ends": self._ends}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> Texts:
        """Inverse of :meth:`to_arrays` (checks the offsets)."""
        blob, ends = arrays[f"{prefix}blob"], arrays[f"{prefix}ends"]
        if len(ends) and (ends[-1] != len(blob) or (np.diff(ends) < 0).any() or ends[0] < 0):
            raise ValueError(f"text column {prefix!r} is inconsistent")
        return cls(blob.data, ends)


class PlaceColumns(Sequence[Place]):
    """The gazetteer's places (``entries[i]`` is a :class:`Place`) with whole columns and lookups by value."""

    @abstractmethod
    def column(self, field: str) -> np.ndarray:
        """One field of every entry as an array (numbers numeric with missing ids -1, text as objects)."""

    @abstractmethod
    def where(self, field: str, value: object) -> list[int]:
        """Ids of the entries whose ``field`` equals ``value`` (``geonames_id`` None matches nothing)."""


class NameLookup(Mapping[str, tuple[int, ...]]):
    """Folded name -> tuple of entry ids, and the keys that name given entries."""

    @abstractmethod
    def keys_for(self, ids: Iterable[int]) -> dict[int, list[str]]:
        """For each entry id in ``ids``, the keys that name it."""

    @abstractmethod
    def get(self, key, default=None):
        """The ids named ``key``, or ``default``."""

    def __getitem__(self, key: str) -> tuple[int, ...]:
        hit = self.get(key)
        if hit is None:
            raise KeyError(key)
        return hit


class Entries(PlaceColumns):
    """The gazetteer's places by column; ``entries[i]`` is a :class:`Place`.

    Numbers and codes are kept as arrays (views of the mapped cache file when read from
    one, so only the pages used are loaded), few-valued text fields as codes into a
    vocabulary, names in a :class:`Texts` blob.
    """

    def __init__(self, numbers: Mapping[str, ArrayLike], codes: Mapping[str, ArrayLike], vocab: dict[str, list[str]],
                 texts: dict[str, Sequence[str]]):
        self._numbers = {k: np.asarray(v, dtype=np.float64 if k in ("lat", "lon") else np.int64)
                         for k, v in numbers.items()}
        self._codes = {k: np.asarray(v, dtype=np.int32) for k, v in codes.items()}
        self._vocab, self._texts = vocab, texts
        self._lat, self._lon, self._gid, self._pop = (self._numbers[k] for k in ("lat", "lon", "geonames_id", "population"))
        self._country, self._fclass, self._fcode, self._admin1, self._layer = (
            (self._codes[k], vocab[k]) for k in _CODED)
        self._name, self._local = texts["name"], texts["local_name"]
        columns: list[Sized] = [*self._numbers.values(), *self._codes.values(), *texts.values()]
        if len({len(v) for v in columns}) != 1:
            raise ValueError("entry columns differ in length")

    @classmethod
    def from_places(cls, places: Sequence[Place]) -> Entries:
        """Columns of ``places`` (their ``score`` and ``candidates`` are not kept)."""
        numbers: dict[str, list[float] | list[int]] = {"lat": [float(p.lat) for p in places], "lon": [float(p.lon) for p in places],
                   "geonames_id": [-1 if p.geonames_id is None else int(p.geonames_id) for p in places],
                   "population": [int(p.population) for p in places]}
        codes: dict[str, list[int]] = {}
        vocab: dict[str, list[str]] = {}
        for field in _CODED:
            values = [getattr(p, field) for p in places]
            vocab[field] = sorted(set(values))
            index = {w: k for k, w in enumerate(vocab[field])}
            codes[field] = [index[v] for v in values]
        return cls(numbers, codes, vocab, {f: Texts.from_list([getattr(p, f) for p in places]) for f in _TEXT})

    def __len__(self) -> int:
        return len(self._lat)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        gid = int(self._gid[i])
        (country, cv), (fclass, fv), (fcode, kv), (admin1, av), (layer, lv) = (
            self._country, self._fclass, self._fcode, self._admin1, self._layer)
        return Place(self._name[i], cv[country[i]], float(self._lat[i]), float(self._lon[i]),
                     None if gid < 0 else gid, fv[fclass[i]], kv[fcode[i]], int(self._pop[i]), av[admin1[i]],
                     self._local[i], lv[layer[i]])

    def column(self, field: str) -> np.ndarray:
        """One field of every entry as an array (numbers numeric with missing ids -1, text as objects)."""
        if field in self._numbers:
            return self._numbers[field]
        if field in self._codes:
            return np.asarray(self._vocab[field], dtype=object)[self._codes[field]]
        return np.asarray(list(self._texts[field]), dtype=object)

    def where(self, field: str, value: object) -> list[int]:
        """Ids of the entries whose ``field`` equals ``value`` (``geonames_id`` None matches nothing)."""
        if field in self._codes:
            if value not in self._vocab[field]:
                return []
            return np.flatnonzero(self._codes[field] == self._vocab[field].index(value)).tolist()
        if field == "geonames_id" and value is None:
            return []
        if field in self._numbers:
            return np.flatnonzero(self._numbers[field] == value).tolist()
        return [i for i, v in enumerate(self._texts[field]) if v == value]

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and JSON metadata to store the entries (see :meth:`from_arrays`)."""
        arrays: dict[str, np.ndarray] = dict(self._numbers)
        arrays.update(self._codes)
        for field in _TEXT:
            texts = self._texts[field]
            arrays.update((texts if isinstance(texts, Texts) else Texts.from_list(texts)).to_arrays(f"{field}_"))
        return arrays, {"vocab": self._vocab}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Entries:
        """Inverse of :meth:`to_arrays` (checks codes and column lengths)."""
        numbers = {f: arrays[f] for f in ("lat", "lon", "population", "geonames_id")}
        vocab = {field: list(meta["vocab"][field]) for field in _CODED}
        codes = {}
        for field in _CODED:
            column = arrays[field]
            if len(column) and (column.min() < 0 or column.max() >= len(vocab[field])):
                raise ValueError(f"entry column {field!r} has codes outside its vocabulary")
            codes[field] = column
        return cls(numbers, codes, vocab, {f: Texts.from_arrays(arrays, f"{f}_") for f in _TEXT})


class NameIndex(NameLookup):
    """Folded name -> tuple of entry ids, over sorted 64-bit key hashes (see the module docstring)."""

    def __init__(self, hashes: np.ndarray, ends: np.ndarray, ids: np.ndarray, keys: Texts):
        if not (len(hashes) == len(ends) == len(keys)) or (len(ends) and ends[-1] != len(ids)):
            raise ValueError("name index arrays do not agree")
        self._hashes, self._ends, self._ids, self._keys = hashes, ends, ids, keys
        self._memo: dict[str, tuple[int, ...] | None] = {}

    @classmethod
    def from_dict(cls, names: Mapping[str, Collection[int]]) -> NameIndex:
        """Index a ``{key: entry ids}`` mapping."""
        keys = list(names)
        hashes = _hashes(keys)
        order = np.argsort(hashes, kind="stable").tolist()
        keys = [keys[k] for k in order]
        id_lists = [names[k] for k in keys]
        lengths = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
        ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.int32, count=int(lengths.sum()))
        return cls(hashes[order], np.cumsum(lengths, dtype=np.int64), ids, Texts.from_list(keys))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The index as arrays whose names start with ``prefix``."""
        return {f"{prefix}hashes": self._hashes, f"{prefix}ends": self._ends, f"{prefix}ids": self._ids,
                **self._keys.to_arrays(f"{prefix}keys_")}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> NameIndex:
        """Inverse of :meth:`to_arrays`."""
        return cls(arrays[f"{prefix}hashes"], arrays[f"{prefix}ends"], arrays[f"{prefix}ids"],
                   Texts.from_arrays(arrays, f"{prefix}keys_"))

    def check(self, n_entries: int) -> None:
        """Raise ValueError unless the ids point into ``n_entries`` entries and the hashes are sorted."""
        if len(self._ids) and (self._ids.min() < 0 or self._ids.max() >= n_entries):
            raise ValueError("name index points outside the entries")
        if (np.diff(self._hashes) < 0).any() or (np.diff(self._ends) < 1).any():
            raise ValueError("name index is not sorted")

    def _key(self, pos: int) -> bytes:
        return self._keys.raw(pos)

    def _ids_at(self, pos: int) -> tuple[int, ...]:
        start = int(self._ends[pos - 1]) if pos else 0
        return tuple(self._ids[start:int(self._ends[pos])].tolist())

    def _find(self, key: str) -> tuple[int, ...] | None:
        h = np.uint64(name_hash(key))
        raw = key.encode("utf-8")
        pos = int(self._hashes.searchsorted(h))
        while pos < len(self._hashes) and self._hashes[pos] == h:
            if self._key(pos) == raw:
                return self._ids_at(pos)
            pos += 1
        return None

    def get(self, key, default=None):
        if not isinstance(key, str):
            return default
        try:
            hit = self._memo[key]
        except KeyError:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            hit = self._memo[key] = self._find(key)
        return default if hit is None else hit

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._hashes)

    def __iter__(self) -> Iterator[str]:
        return (self._key(pos).decode("utf-8") for pos in range(len(self)))

    def items(self):
        return ((self._key(pos).decode("utf-8"), self._ids_at(pos)) for pos in range(len(self)))

    def keys_for(self, ids: Iterable[int]) -> dict[int, list[str]]:
        """For each entry id in ``ids``, the keys that name it."""
        wanted = np.fromiter(set(ids), dtype=np.int64)
        out: dict[int, list[str]] = {int(i): [] for i in wanted}
        hits = np.flatnonzero(np.isin(self._ids, wanted))
        for at, pos in zip(hits.tolist(), np.searchsorted(self._ends, hits, side="right").tolist()):
            out[int(self._ids[at])].append(self._key(pos).decode("utf-8"))
        return out

    def best(self, score: np.ndarray) -> Iterator[tuple[str, int, float]]:
        """For each key with an entry scoring above 0: (key, first entry with the highest score, that score).

        ``score`` has one value per entry id.
        """
        if not len(self._ids):
            return
        values = np.asarray(score)[self._ids]
        starts = np.concatenate([[0], self._ends[:-1]])
        top = np.maximum.reduceat(values, starts)
        key_of = np.repeat(np.arange(len(starts)), np.diff(np.concatenate([[0], self._ends])))
        at_top = np.flatnonzero((values == top[key_of]) & (values > 0))
        keys, first = np.unique(key_of[at_top], return_index=True)  # the first top entry of each key
        for pos, i, value in zip(keys.tolist(), self._ids[at_top[first]].tolist(), top[keys].tolist()):
            yield self._key(pos).decode("utf-8"), i, value


class ChainedEntries(PlaceColumns):
    """The base gazetteer's entries followed by an overlay's: ids ``len(base)`` on are the overlay's.

    ``patches`` replace base entries (an overlay's layer marks a GeoNames town as its station).
    """

    def __init__(self, base: PlaceColumns, extra: PlaceColumns, patches: Mapping[int, Place] | None = None):
        self._base, self._extra, self._n = base, extra, len(base)
        self._patches = dict(patches or {})

    def __len__(self) -> int:
        return self._n + len(self._extra)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if i < self._n:
            return self._patches[i] if i in self._patches else self._base[i]
        return self._extra[i - self._n]

    def column(self, field: str) -> np.ndarray:
        """One field of every entry (see :meth:`Entries.column`)."""
        column = np.concatenate([self._base.column(field), self._extra.column(field)])
        for i, place in self._patches.items():
            value = getattr(place, field)
            column[i] = -1 if value is None and column.dtype.kind in "iu" else value
        return column

    def where(self, field: str, value) -> list[int]:
        """Ids of the entries whose ``field`` equals ``value``."""
        base = [i for i in self._base.where(field, value) if i not in self._patches]
        patched = [i for i, place in self._patches.items() if value is not None and getattr(place, field) == value]
        return sorted(base + patched) + [self._n + i for i in self._extra.where(field, value)]


class ChainedIndex(NameLookup):
    """Two name indexes as one: a key's ids in the base, then in the overlay."""

    def __init__(self, base: NameLookup, extra: NameLookup):
        self._base, self._extra = base, extra

    def get(self, key, default=None):
        a, b = self._base.get(key), self._extra.get(key)
        if a is None and b is None:
            return default
        return (a or ()) + (b or ())

    def __contains__(self, key) -> bool:
        return key in self._base or key in self._extra

    def __len__(self) -> int:
        return len(self._base) + sum(1 for k in self._extra if k not in self._base)

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from (k for k in self._extra if k not in self._base)

    def keys_for(self, ids: Iterable[int]) -> dict[int, list[str]]:
        """For each entry id in ``ids``, the keys that name it."""
        ids = list(ids)
        out = self._base.keys_for(ids)
        for i, keys in self._extra.keys_for(ids).items():
            out.setdefault(i, []).extend(keys)
        return out


class Gazetteer(NamedTuple):
    """The loaded gazetteer: entries and name indexes (folded name -> entry ids)."""

    entries: PlaceColumns  # Entries, or with the GeoNames dumps' entries chained
    names: NameLookup  # official / ascii names (a NameIndex, or chained)
    alt_names: NameLookup  # alternate names
    demonyms: dict[str, int]  # "russian" -> entry id of Russia
    countries: dict[str, int]  # "RU" -> entry id
    admin1: dict[str, int]  # "US.TX" -> entry id
    dotted: frozenset = frozenset()  # keys known only as dotted abbreviations ("Ga.", "Miss.")


def write(path: Path, key: str, gaz: Gazetteer) -> Path | None:
    """Save ``gaz`` as a checked file for ``key`` (None when the cache folder is not writable).

    Raises
    ------
    TypeError
        When ``gaz`` has the GeoNames dumps laid over it (only a built gazetteer is stored).
    """
    if not (isinstance(gaz.entries, Entries) and isinstance(gaz.names, NameIndex)
            and isinstance(gaz.alt_names, NameIndex)):
        raise TypeError("only a built gazetteer is stored, not one with the GeoNames dumps laid over it")
    arrays, meta = gaz.entries.to_arrays()
    arrays.update(gaz.names.to_arrays("names_"))
    arrays.update(gaz.alt_names.to_arrays("alt_"))
    meta.update(demonyms=gaz.demonyms, countries=gaz.countries, admin1=gaz.admin1, dotted=sorted(gaz.dotted))
    return cachefile.write_arrays(path, FORMAT, key, arrays, meta)


def read(path: Path, key: str) -> Gazetteer | None:
    """The gazetteer saved at ``path`` for ``key``; None when absent, stale or corrupt (then deleted)."""
    got = cachefile.read_arrays(path, FORMAT, key)
    if got is None:
        return None
    arrays, meta = got
    try:
        return _checked(Entries.from_arrays(arrays, meta), NameIndex.from_arrays(arrays, "names_"),
                        NameIndex.from_arrays(arrays, "alt_"), meta)
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError):
        Path(path).unlink(missing_ok=True)
        return None


def _checked(entries: Entries, names: NameIndex, alt_names: NameIndex, meta: dict[str, Any]) -> Gazetteer:
    """The gazetteer of these parts and the small indexes in ``meta``; ValueError when an index points outside
    the entries (a stored gazetteer, cached or shipped, is never trusted unchecked)."""
    names.check(len(entries))
    alt_names.check(len(entries))
    small = {k: {str(name): int(i) for name, i in dict(meta[k]).items()} for k in ("demonyms", "countries", "admin1")}
    if any(not 0 <= i < len(entries) for d in small.values() for i in d.values()):
        raise ValueError("an index points outside the entries")
    return Gazetteer(entries, names, alt_names, small["demonyms"], small["countries"], small["admin1"],
                     frozenset(map(str, meta["dotted"])))


#: The shipped (prebuilt) gazetteer's format: compressed NumPy arrays without what is cheap to derive.
SHIPPED_FORMAT = "corridormap-gazetteer-shipped/1"


def _lengths(ends: np.ndarray) -> np.ndarray:
    """Offsets (cumulative ends) as lengths, in the smallest unsigned type that holds them."""
    lengths = np.diff(np.concatenate([[0], np.asarray(ends, dtype=np.int64)]))
    top = int(lengths.max()) if len(lengths) else 0
    return lengths.astype(np.uint8 if top < 1 << 8 else np.uint16 if top < 1 << 16 else np.uint32)


def _compact_index(index: NameIndex, prefix: str) -> dict[str, np.ndarray]:
    """An index as its keys in text order (newline-separated; they compress well) and id lists by length."""
    pairs = sorted(index.items())
    counts = np.fromiter((len(ids) for _, ids in pairs), dtype=np.int64, count=len(pairs))
    ids = np.fromiter(chain.from_iterable(ids for _, ids in pairs), dtype=np.int32, count=int(counts.sum()))
    keys = "\n".join(k for k, _ in pairs).encode("utf-8")
    return {f"{prefix}keys": np.frombuffer(keys, dtype=np.uint8), f"{prefix}counts": _lengths(np.cumsum(counts)),
            f"{prefix}ids": ids}


def _index_from_compact(arrays: Mapping[str, np.ndarray], prefix: str) -> NameIndex:
    """Inverse of :func:`_compact_index`: hashes made, keys put in hash order (bytes moved by NumPy, no str per key)."""
    blob = np.asarray(arrays[f"{prefix}keys"], dtype=np.uint8)
    counts = arrays[f"{prefix}counts"].astype(np.int64)
    ids = np.asarray(arrays[f"{prefix}ids"], dtype=np.int32)
    breaks = np.flatnonzero(blob == 10)  # the newlines between keys (a folded key holds none)
    key_starts = np.concatenate([[0], breaks + 1]) if len(blob) else np.zeros(0, dtype=np.int64)
    key_lengths = np.concatenate([breaks, [len(blob)]]) - key_starts if len(blob) else key_starts
    if len(counts) != len(key_starts) or int(counts.sum()) != len(ids):
        raise ValueError(f"shipped index {prefix!r} is inconsistent")
    hashes = _hashes_of_lines(blob.tobytes())
    order = np.argsort(hashes, kind="stable")
    new_blob, new_key_ends = _gather(blob, key_starts, key_lengths, order)
    new_counts = counts[order]
    new_ends = np.cumsum(new_counts)
    id_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    new_ids = ids[_gather_positions(id_starts[order], new_counts)]
    keys = Texts(new_blob.tobytes(), new_key_ends)
    return NameIndex(hashes[order], new_ends, new_ids, keys)


def _hashes_of_lines(blob: bytes) -> np.ndarray:
    """:func:`name_hash` of each newline-separated UTF-8 key in ``blob``."""
    digests = b"".join(blake2b(k, digest_size=8).digest() for k in blob.split(b"\n")) if blob else b""
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _gather_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions ``starts[0]..starts[0]+lengths[0]-1``, then those of the next run, ...: one array."""
    total = int(lengths.sum())
    run_ends = np.cumsum(lengths)
    return np.repeat(starts - (run_ends - lengths), lengths) + np.arange(total, dtype=np.int64)


def _gather(blob: np.ndarray, starts: np.ndarray, lengths: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs of ``blob`` in ``order``, end to end, and their end offsets."""
    new_lengths = lengths[order]
    return blob[_gather_positions(starts[order], new_lengths)], np.cumsum(new_lengths, dtype=np.int64)


def write_shipped(path: Path, key: str, gaz: Gazetteer) -> int:
    """Write ``gaz`` (a built gazetteer) for ``key`` in the compact shipped form; return its size in bytes.

    Everything derivable (key hashes, offsets) is left out and the rest is compressed
    (:func:`geo.cachefile.pack`), so the file is a sixth of the cache file's size; :func:`read_shipped` makes the cache form back.
    """
    import io
    import json

    from .. import files

    arrays, meta = gaz.entries.to_arrays()  # type: ignore[attr-defined]  # Entries: a built gazetteer
    arrays = {k: (_lengths(v) if k.endswith("_ends") else v) for k, v in arrays.items()}
    for field in _CODED:
        arrays[field] = arrays[field].astype(np.uint16 if len(meta["vocab"][field]) >= 1 << 8 else np.uint8)
    arrays.update(_compact_index(gaz.names, "names_"))  # type: ignore[arg-type]
    arrays.update(_compact_index(gaz.alt_names, "alt_"))  # type: ignore[arg-type]
    meta.update(format=SHIPPED_FORMAT, key=key, demonyms=gaz.demonyms, countries=gaz.countries, admin1=gaz.admin1,
                dotted=sorted(gaz.dotted))
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = cachefile.pack(buffer.getvalue())
    files.write_bytes(path, payload)
    return len(payload)


def shipped_key(path: Path) -> str | None:
    """The key the shipped gazetteer at ``path`` was built for (None when absent or unreadable)."""
    got = _open_shipped(path)
    return None if got is None else str(got[1].get("key"))


def _open_shipped(path: Path) -> tuple[Mapping[str, np.ndarray], dict[str, Any]] | None:
    import io
    import json
    import zipfile

    try:
        raw = cachefile.unpack(Path(path).read_bytes())
        if raw is None:
            return None
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if not isinstance(meta, dict) or meta.get("format") != SHIPPED_FORMAT:
        return None
    return arrays, meta


def read_shipped(path: Path, key: str) -> Gazetteer | None:
    """The gazetteer shipped at ``path`` when it was built for ``key``; None when absent, for other inputs or unreadable."""
    got = _open_shipped(path)
    if got is None or got[1].get("key") != key:
        return None
    arrays, meta = got
    try:
        full = {k: (np.cumsum(v, dtype=np.int64) if k.endswith("_ends") else v) for k, v in arrays.items()
                if not k.startswith(("names_", "alt_"))}
        for field in _CODED:
            full[field] = full[field].astype(np.int32)
        return _checked(Entries.from_arrays(full, meta), _index_from_compact(arrays, "names_"),
                        _index_from_compact(arrays, "alt_"), meta)
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError):
        return None
