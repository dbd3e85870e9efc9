"""The consent anchors' Merkle tree (``models.merkle``): RFC 6962's construction, checked
against the Certificate Transparency reference vectors (the roots of trees of 1-8 leaves
and audit paths, as in transparency-dev/merkle's testonly constants), and by properties:
the streamed tree is the RFC's, every leaf's proof verifies, and a changed leaf, path or
index does not (the size is signed with the root, so a path that also fits another
size proves nothing false)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.merkle import TreeBuilder, audit_path, root, root_from_path, verify_inclusion

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
#: (leaf index, tree size, audit path)
PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def streamed(leaves: list[bytes], keep: set[int] | None = None):
    builder = TreeBuilder()
    for index, leaf in enumerate(leaves):
        builder.add(leaf, keep=keep is None or index in keep)
    return builder.finish()


def test_the_empty_tree_is_the_hash_of_nothing():
    assert root([]) == hashlib.sha256(b"").digest()
    tree = streamed([])
    assert (tree.size, tree.root, tree.paths) == (0, hashlib.sha256(b"").digest(), {})


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_are_the_reference_roots(size):
    assert root(LEAVES[:size]).hex() == ROOTS[size - 1]
    assert streamed(LEAVES[:size]).root.hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), PATHS)
def test_audit_paths_are_the_reference_paths(index, size, path):
    assert [h.hex() for h in audit_path(index, LEAVES[:size])] == path
    assert [h.hex() for h in streamed(LEAVES[:size]).paths[index]] == path
    nodes = [bytes.fromhex(h) for h in path]
    assert root_from_path(LEAVES[index], index, size, nodes).hex() == ROOTS[size - 1]


leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_the_streamed_tree_is_the_rfc_tree_and_every_proof_verifies(leaves, data):
    keep = data.draw(st.sets(st.integers(0, len(leaves) - 1)))
    tree = streamed(leaves, keep)
    expected = root(leaves)
    assert tree.size == len(leaves) and tree.root == expected
    assert set(tree.paths) == keep
    for index in range(len(leaves)):
        path = audit_path(index, leaves)
        if index in keep:
            assert tree.paths[index] == path
        assert verify_inclusion(leaves[index], index, len(leaves), path, expected)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_a_changed_leaf_path_index_or_size_fails(leaves, data):
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    path = audit_path(index, leaves)
    expected = root(leaves)
    changed = leaves[index] + b"!"
    assert not verify_inclusion(changed, index, size, path, expected)
    if path:
        at = data.draw(st.integers(0, len(path) - 1))
        bad = [*path]
        bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
        assert not verify_inclusion(leaves[index], index, size, bad, expected)
        assert not verify_inclusion(leaves[index], index, size, path[:-1], expected)
    assert not verify_inclusion(leaves[index], index, size, [*path, expected], expected)
    other = data.draw(st.integers(0, size - 1))
    if leaves[other] != leaves[index]:
        assert not verify_inclusion(leaves[index], other, size, path, expected)
    assert not verify_inclusion(leaves[index], size, size, path, expected)
