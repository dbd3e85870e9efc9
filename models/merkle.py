"""Merkle trees as Certificate Transparency builds them (RFC 6962 section 2.1, RFC 9162
section 2.1): the consent anchors' tree (``models.consent.anchors``).

A leaf is hashed ``SHA-256(0x00 || leaf)`` and a node ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two below ``n``; the empty tree's hash
is ``SHA-256()``. Written here, not taken from PyPI: pymerkle implements the same tree but
keeps every entry in a store of its own and proves from it, while an anchor streams the
chain heads from the database once, keeping only a stack of subtree hashes and the audit
paths it was asked for (``TreeBuilder``). ``root`` and ``audit_path`` are the RFC's
recursive definitions, the reference the builder is tested against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 section 2.1."""
    if not leaves:
        return hashlib.sha256().digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def audit_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1: the sibling hashes from the leaf upwards."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is outside a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*audit_path(index, leaves[:k]), root(leaves[k:])]
    return [*audit_path(index - k, leaves[k:]), root(leaves[:k])]


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2); ValueError for a
    proof that cannot belong to a tree of ``size`` (wrong length, index outside)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in path:
        if sn == 0:
            raise ValueError("the audit path is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the audit path is too short")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    try:
        return root_from_path(leaf, index, size, path) == expected_root
    except ValueError:
        return False


@dataclass
class _Subtree:
    """A complete subtree of ``2**height`` leaves, and the leaves in it whose path is kept."""

    height: int
    hash: bytes
    kept: list[int] = field(default_factory=list)


@dataclass
class Tree:
    size: int
    root: bytes
    #: Each kept leaf's audit path, by leaf index.
    paths: dict[int, list[bytes]]


class TreeBuilder:
    """The tree of leaves added one at a time, in O(log n) memory plus the kept paths.

    Two equal complete subtrees merge as soon as both exist (each kept leaf of one gets the
    other's hash on its path); at the end, what is left (complete subtrees of decreasing
    size) merges from the right, which is exactly RFC 6962's split at the largest power of
    two."""

    def __init__(self) -> None:
        self._stack: list[_Subtree] = []
        self._paths: dict[int, list[bytes]] = {}
        self.size = 0

    def add(self, leaf: bytes, *, keep: bool = False) -> int:
        """Add the next leaf; ``keep``: make its audit path. Returns its index."""
        index = self.size
        self.size += 1
        subtree = _Subtree(0, leaf_hash(leaf))
        if keep:
            subtree.kept.append(index)
            self._paths[index] = []
        while self._stack and self._stack[-1].height == subtree.height:
            subtree = self._merge(self._stack.pop(), subtree, subtree.height + 1)
        self._stack.append(subtree)
        return index

    def _merge(self, left: _Subtree, right: _Subtree, height: int) -> _Subtree:
        for index in left.kept:
            self._paths[index].append(right.hash)
        for index in right.kept:
            self._paths[index].append(left.hash)
        return _Subtree(height, node_hash(left.hash, right.hash), left.kept + right.kept)

    def finish(self) -> Tree:
        if not self._stack:
            return Tree(0, hashlib.sha256().digest(), {})
        right = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            right = self._merge(left, right, left.height + 1)
        return Tree(self.size, right.hash, self._paths)
