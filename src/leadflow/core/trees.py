"""A gradient-boosted forest evaluated from its dumped trees, with exact TreeSHAP. Pure NumPy.

Training (LightGBM) is done elsewhere and only its dump (`Booster.dump_model()`, pruned by
`prune_dump`) is stored; serving reads it here, so the request path never imports a learner.

Every row gets its raw score (log-odds) and one contribution per feature, the path-dependent
TreeSHAP values LightGBM's `pred_contrib` gives: they sum, with the forest's expected value,
to the raw score. How they are computed without walking the trees per row:

For one leaf with value `v`, let U be the distinct features on its path, `z_j` the share of
the training rows that the path's nodes on feature j let through (the product of child count
over parent count at those nodes) and `o_j` 1 when the row goes the path's way at all of them.
The leaf's part of the tree's conditional expectation given the features in S is
`v * prod_{j in S} o_j * prod_{j not in S} z_j`, so its Shapley value for feature i is
`v * (o_i - z_i) * sum_{S subset of C - {i}} w(|S|) prod_{j in U - S - {i}} z_j` with C the
features the row agrees with and `w(k) = k! (d-k-1)! / d!`. That depends on the row only
through C, so for every leaf and every C (2**d of them, d <= the tree depth) it is tabulated
once when the forest is loaded; a row costs one vectorised pass over the nodes (which way it
goes), the agreement of each path feature, and a gather from the table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}
ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold: |x| at most this counts as zero
CHUNK = 256  # rows evaluated at once: the work arrays are rows x path nodes
MAX_PATH_FEATURES = 12  # the table has 2**d rows per leaf: depth is capped when training
_KEEP = ("split_feature", "threshold", "decision_type", "default_left", "missing_type",
         "left_child", "right_child", "leaf_value", "leaf_count", "internal_count")  # fmt: skip


def forest_digest(forest: Mapping[str, Any]) -> str:
    """What the trees are, as a short name: serving caches evaluated forests by it."""
    text = json.dumps(forest, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def prune_dump(dump: Mapping[str, Any]) -> dict[str, Any]:
    """What evaluation needs from `Booster.dump_model()`: the trees, plain JSON."""

    def node(n: Mapping[str, Any]) -> dict[str, Any]:
        kept = {k: n[k] for k in _KEEP if k in n and k not in ("left_child", "right_child")}
        if "left_child" in n:
            kept["left_child"], kept["right_child"] = node(n["left_child"]), node(n["right_child"])
        return kept

    return {"trees": [node(t["tree_structure"]) for t in dump["tree_info"]],
            "features": int(dump["max_feature_idx"]) + 1}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Explained:
    """Per row: the raw score (log-odds), and the contributions that add up to it with `base`."""

    base: float
    raw: F64  # (rows,)
    contributions: F64  # (rows, features)


class Forest:
    """The flattened trees of a pruned dump and the TreeSHAP table of every leaf."""

    def __init__(self, pruned: Mapping[str, Any]) -> None:
        self.features = int(pruned["features"])
        nodes: list[Mapping[str, Any]] = []
        leaves: list[tuple[float, float, list[tuple[int, bool, float]]]] = []  # value, share, path
        for tree in pruned["trees"]:
            total = float(tree.get("internal_count", tree.get("leaf_count", 1)) or 1)
            _walk(tree, [], nodes, leaves, total)
        self._nodes(nodes)
        self._leaves(leaves)

    def _nodes(self, nodes: list[Mapping[str, Any]]) -> None:
        self.feature = np.array([n["split_feature"] for n in nodes], dtype=np.int64)
        self.categorical = np.array([n["decision_type"] == "==" for n in nodes], dtype=bool)
        numeric = zip(nodes, self.categorical, strict=True)
        self.threshold = np.array([0.0 if c else float(n["threshold"]) for n, c in numeric])
        self.default_left = np.array([bool(n["default_left"]) for n in nodes], dtype=bool)
        self.missing = np.array([_MISSING[n["missing_type"]] for n in nodes], dtype=np.int64)
        sets = [[int(c) for c in str(n["threshold"]).split("||")] if cat else []
                for n, cat in zip(nodes, self.categorical, strict=True)]  # fmt: skip
        width = max((max(s) + 1 for s in sets if s), default=1)
        self.cat_left = np.zeros((len(nodes), width + 1), dtype=bool)  # last column: no category
        for k, s in enumerate(sets):
            self.cat_left[k, s] = True
        self.cat_width = width

    def _leaves(self, leaves: list[tuple[float, float, list[tuple[int, bool, float]]]]) -> None:
        value = np.array([v for v, _, _ in leaves])
        share = np.array([s for _, s, _ in leaves])
        self.base = float(np.sum(value * share))
        # Path nodes grouped into slots (one per distinct feature of a leaf's path).
        path_node: list[int] = []
        path_left: list[bool] = []
        path_slot: list[int] = []
        slot_leaf: list[int] = []
        slot_feature: list[int] = []
        slot_bit: list[int] = []
        slot_z: list[float] = []
        depth = np.zeros(len(leaves), dtype=np.int64)
        for leaf, (_, _, path) in enumerate(leaves):
            slots: dict[int, int] = {}
            for node, went_left, z in path:
                f = int(self.feature[node])
                if f not in slots:
                    slots[f] = len(slot_leaf)
                    slot_leaf.append(leaf)
                    slot_feature.append(f)
                    slot_bit.append(len(slots) - 1)
                    slot_z.append(1.0)
                slot_z[slots[f]] *= z
                path_node.append(node)
                path_left.append(went_left)
                path_slot.append(slots[f])
            depth[leaf] = len(slots)
        if depth.size and depth.max() > MAX_PATH_FEATURES:
            raise ValueError(
                f"a leaf depends on {depth.max()} features; at most {MAX_PATH_FEATURES} are "
                "tabulated (limit the tree depth)"
            )
        order = np.argsort(np.asarray(path_slot, dtype=np.int64), kind="stable")
        self.path_node = np.asarray(path_node, dtype=np.int64)[order]
        self.path_left = np.asarray(path_left, dtype=bool)[order]
        slot_of_path = np.asarray(path_slot, dtype=np.int64)[order]
        self.slot_starts = np.flatnonzero(np.r_[True, np.diff(slot_of_path) != 0]) if order.size \
            else np.zeros(0, dtype=np.int64)  # fmt: skip
        self.slot_leaf = np.asarray(slot_leaf, dtype=np.int64)
        self.slot_feature = np.asarray(slot_feature, dtype=np.int64)
        self.slot_bit = np.asarray(slot_bit, dtype=np.int64)
        self.value = value
        self.depth = depth
        self.full = (1 << depth) - 1
        with_path = np.flatnonzero(depth > 0)
        self.leaf_slot_starts = np.searchsorted(self.slot_leaf, with_path)
        self.with_path = with_path
        self.table, self.offset = _table(value, depth, np.asarray(slot_z), self.slot_leaf)

    def decisions(self, x: F64) -> npt.NDArray[np.bool_]:
        """(rows, nodes): whether each row goes left at each node, as LightGBM decides."""
        fval = x[:, self.feature]
        nan = np.isnan(fval)
        numeric = np.where(nan & (self.missing != MISSING_NAN), 0.0, fval)
        missing = ((self.missing == MISSING_ZERO) & (np.abs(numeric) <= ZERO_THRESHOLD)) | (
            (self.missing == MISSING_NAN) & np.isnan(numeric)
        )
        with np.errstate(invalid="ignore"):
            left = np.where(missing, self.default_left, numeric <= self.threshold)
        code = np.where(nan | (fval < 0), self.cat_width, np.trunc(np.nan_to_num(fval)))
        code = np.minimum(code, self.cat_width).astype(np.int64)
        in_set = self.cat_left[np.arange(self.feature.size), code]
        result: npt.NDArray[np.bool_] = np.where(self.categorical, in_set, left)
        return result

    def explain(self, x: F64) -> Explained:
        """Raw scores and TreeSHAP contributions of rows x (rows, features; NaN = missing)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[0] <= CHUNK:
            return self._explain(x)
        parts = [self._explain(x[k : k + CHUNK]) for k in range(0, x.shape[0], CHUNK)]
        return Explained(self.base, np.concatenate([p.raw for p in parts]),
                         np.vstack([p.contributions for p in parts]))  # fmt: skip

    def _explain(self, x: F64) -> Explained:
        rows = x.shape[0]
        agree_node = self.decisions(x)[:, self.path_node] == self.path_left
        if self.slot_leaf.size:
            disagreements = np.add.reduceat(~agree_node, self.slot_starts, axis=1)
        else:
            disagreements = np.zeros((rows, 0), dtype=np.int64)
        agree = disagreements == 0  # (rows, slots)
        bits = agree.astype(np.int64) << self.slot_bit
        mask = np.zeros((rows, self.value.size), dtype=np.int64)
        if self.with_path.size:
            mask[:, self.with_path] = np.add.reduceat(bits, self.leaf_slot_starts, axis=1)
        reached = mask == self.full
        raw = reached.astype(np.float64) @ self.value
        where = self.offset[self.slot_leaf] + mask[:, self.slot_leaf] * self.depth[
            self.slot_leaf] + self.slot_bit  # fmt: skip
        per_slot = self.table[where]
        contributions = np.zeros((rows, self.features))
        for r in range(rows):
            contributions[r] = np.bincount(self.slot_feature, per_slot[r], self.features)
        return Explained(self.base, raw, contributions)


def _walk(
    node: Mapping[str, Any],
    path: list[tuple[int, bool, float]],
    nodes: list[Mapping[str, Any]],
    leaves: list[tuple[float, float, list[tuple[int, bool, float]]]],
    total: float,
) -> None:
    if "leaf_value" in node:
        share = float(node.get("leaf_count", total)) / total
        leaves.append((float(node["leaf_value"]), share, list(path)))
        return
    k = len(nodes)
    nodes.append(node)
    parent = float(node["internal_count"])
    for child, left in ((node["left_child"], True), (node["right_child"], False)):
        count = float(child.get("internal_count", child.get("leaf_count", 0)))
        _walk(child, [*path, (k, left, count / parent if parent else 0.0)], nodes, leaves, total)


def _table(value: F64, depth: I64, slot_z: F64, slot_leaf: I64) -> tuple[F64, I64]:
    """Every leaf's Shapley values for every agreement mask: leaf l, mask C, slot i at
    `offset[l] + C * depth[l] + i`."""
    sizes = (1 << depth) * depth
    offset = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    table = np.zeros(int(sizes.sum()))
    first = np.searchsorted(slot_leaf, np.arange(value.size))
    for d in sorted(set(depth.tolist()) - {0}):
        leaves = np.flatnonzero(depth == d)
        z = slot_z[first[leaves][:, None] + np.arange(d)]  # (n, d)
        masks = np.arange(1 << d)
        bit = ((masks[:, None] >> np.arange(d)) & 1).astype(bool)  # (2**d, d)
        size = bit.sum(axis=1)
        weight = np.array([math.factorial(k) * math.factorial(d - k - 1) / math.factorial(d)
                           for k in range(d)])  # fmt: skip
        # a[S, i]: w(|S|) for subsets S without i.
        a = np.where(bit, 0.0, weight[np.minimum(size, d - 1)][:, None])
        # p[l, S, i]: product of z_j over j outside S and other than i.
        out = ~(bit[:, None, :] | np.eye(d, dtype=bool)[None, :, :])  # (S, i, j)
        p = np.prod(np.where(out[None], z[:, None, None, :], 1.0), axis=-1)
        subset = (masks[None, :] & ~masks[:, None]) == 0  # [C, S]: S within C
        inner = np.einsum("cs,lsi->lci", subset.astype(np.float64), a[None] * p)
        phi = value[leaves][:, None, None] * (bit[None].astype(np.float64) - z[:, None, :]) * inner
        index = offset[leaves][:, None] + np.arange((1 << d) * d)[None, :]
        table[index] = phi.reshape(leaves.size, -1)
    return table, offset
