"""Loop bodies without allocation: every ufunc writes into memory made before the loop.

Hand-written BPTT preallocates its arrays and writes into them (``np.tanh(a, out=h[t])``);
so does a loop body after this pass, op by op in the same order (results are identical).
After ``split`` (one statement per ufunc call, ``codegen.split``), ``Allocation`` walks the
body once with each value's live range (its definition to its last read in the iteration;
a view keeps its base alive; a carried value lives on into the next iteration) and gives
each ufunc a destination (``Stmt.dest``):

* a stored value: its row of the per-step array (``out=h[t]``);
* a carried value: its own buffer, once the previous step's value is read for the last
  time (``out=g_h_carry``);
* a slice of a sum assembled from disjoint slices (``out=g_a[:, 4:8]``, ``split.covers``);
* a chain of ufuncs ending in one of those is computed there (the four calls of sigmoid in
  ``i[t]``);
* else the buffer of an operand dying here (elementwise ops only), a row of an array made
  before the loop that only this statement reads (the hoisted projection), or a scratch
  buffer made before the loop and reused once its value is dead.

A carried value whose new value is computed while the old one is still to be read gets a
per-step array instead (``v[t - 1]`` is then the old value).
"""

from __future__ import annotations

from autograd_rnn.codegen import extra_ops
from autograd_rnn.codegen.ir import At, Carry, Loop, Stmt, T, Var, at, reads, shape_of, vars_in
from autograd_rnn.codegen.split import UfuncOp, covers, split
from autograd_rnn.codegen.sums import fresh

INF = 1 << 60
VIEWS = {"getitem", "reshape", "transpose", "broadcast_to"}


class _Buffer:
    def __init__(self, var: Var, busy: list | None = None) -> None:
        self.var = var
        self.busy = busy or []  # (first, last) statement indices of the values living here

    def fits(self, start: int, end: int, dying_at: int | None = None, own=None) -> bool:
        """Is the buffer free from ``start`` to ``end`` (a value dying at ``dying_at`` may
        be overwritten by the statement reading it; ``own``: a reservation to ignore)?"""
        return all(e < start or s > end or (e == start == dying_at) or (s, e) == own
                   for s, e in self.busy)


def _elementwise(stmt: Stmt) -> bool:
    return isinstance(stmt.op, UfuncOp) and stmt.op.ufunc.__name__ != "matmul"


def _capable(stmt: Stmt) -> bool:
    """Can the statement write its value into a given array (``out=``)?"""
    if stmt.op is extra_ops.ZEROS:
        return True
    if not isinstance(stmt.op, UfuncOp) or stmt.out is None or not stmt.out.shape:
        return False
    if stmt.op.ufunc.__name__ == "matmul":  # np.dot(a, b, out=) for matrices
        return len(stmt.out.shape) == 2 and all(len(shape_of(a)) == 2 for a in stmt.args)
    return True


def _is_view(stmt: Stmt) -> bool:
    if stmt.op.name not in VIEWS or not stmt.args or not isinstance(stmt.args[0], Var):
        return False
    return stmt.op.name != "getitem" or not any(
        isinstance(v, Var) for v in vars_in(stmt.params))


class Allocation:
    """Destinations for the ufuncs of one loop body (see the module docstring)."""

    def __init__(self, loop: Loop, consumable: set[int]) -> None:
        self.loop = loop
        self.consumable = consumable  # ids of arrays made before the loop, read once
        self.homes = covers(loop)
        self.body = loop.body
        self.index = {id(s.out): i for i, s in enumerate(self.body) if s.out is not None}
        self.group: dict[int, int] = {}  # id(var) -> id of the value owning its memory
        self.end: dict[int, int] = {}  # id(owner) -> last statement reading it
        self.carry_read: dict[int, int] = {}  # id(carried var) -> last read of Carry(var)
        self.buffers: dict[int, _Buffer] = {}  # id(owner) -> its buffer
        self.scratch: list[_Buffer] = []
        self._liveness()

    def owner(self, v) -> int:
        key = id(v)
        while key in self.group:
            key = self.group[key]
        return key

    def _liveness(self) -> None:
        inside = set(self.index)
        for i, s in enumerate(self.body):
            if s.out is not None and _is_view(s) and id(s.args[0]) in inside:
                self.group[id(s.out)] = id(s.args[0])
            elif s.out is not None and id(s.out) in self.homes:
                self.group[id(s.out)] = id(self.homes[id(s.out)].base)
            for o in (*s.args, *vars_in(s.params)):
                if isinstance(o, Carry):
                    self.carry_read[id(o.var)] = i
            for v in reads(s):
                if id(v) in inside:
                    owner = self.owner(v)
                    self.end[owner] = max(self.end.get(owner, -1), i)
            if s.out is not None:
                owner = self.owner(s.out)
                self.end[owner] = max(self.end.get(owner, -1), i)
        for v in self.loop.carries:
            self.end[self.owner(v)] = INF

    def _store_early_carries(self) -> None:
        """A carry computed before its old value is read for the last time, or not by a
        ufunc, lives in a per-step array (row t - step is the old value)."""
        for v in list(self.loop.carries):
            if v in self.loop.stored:
                continue
            stmt = self.body[self.index[id(v)]]
            if self.carry_read.get(id(v), -1) > self.index[id(v)] or not _capable(stmt) or (
                    self.owner(v) != id(v)):
                rows = max(self.loop.ts) + 2
                self.loop.stored[v] = Var((rows, *v.shape), v.dtype, v.hint, None, v.role)

    def run(self) -> list[Stmt]:
        """Set ``dest`` of every statement that gets one; returns the allocations of the
        buffers (statements for before the loop)."""
        self._store_early_carries()
        for v in self.loop.carries:  # its old value until read, its new value from its def
            if v not in self.loop.stored:
                self.buffers[id(v)] = _Buffer(v, [(-1, self.carry_read.get(id(v), -1)),
                                                  (self.index[id(v)], INF)])
        preferred = self._preferred()
        for i, s in enumerate(self.body):
            if s.out is None or not _capable(s):
                continue
            s.dest = self._choose(i, s, preferred.get(id(s.out)))
            self._record(s)
        return [Stmt(b.var, extra_ops.EMPTY, (), {"shape": b.var.shape, "dtype": b.var.dtype},
                     self.loop.scope, self.loop.phase) for b in self.scratch]

    def _fixed(self, v: Var):
        if v in self.loop.stored:
            return at(self.loop.stored[v], T(0))
        if id(v) in self.homes:
            return self.homes[id(v)]
        if v in self.loop.carries:
            return v
        return None

    def _preferred(self) -> dict[int, object]:
        """Chains of ufuncs ending in a fixed place are computed in that place."""
        preferred: dict[int, object] = {}
        for j in range(len(self.body) - 1, -1, -1):
            s = self.body[j]
            if s.out is None or not _elementwise(s):
                continue
            place = self._fixed(s.out) or preferred.get(id(s.out))
            if place is None:
                continue
            for x in s.args:
                if self._chain_link(x, s, j, place):
                    preferred[id(x)] = place
                    break  # one operand per statement may be computed in the place
        return preferred

    def _chain_link(self, x, s: Stmt, j: int, place) -> bool:
        if not isinstance(x, Var) or id(x) not in self.index or self._fixed(x) is not None:
            return False
        d = self.index[id(x)]
        if (self.end.get(self.owner(x)) != j or self.owner(x) != id(x)
                or not _elementwise(self.body[d]) or x.shape != s.out.shape
                or x.dtype != s.out.dtype):
            return False
        others = [o for o in s.args if o is not x]
        if isinstance(place, Var):  # a carry's buffer: its old value must be read already
            if any(isinstance(o, Carry) and o.var is place for o in others):
                return False
            return self.carry_read.get(id(place), -1) < d
        return not any(o is place or (isinstance(o, Var) and o is s.out) for o in others)

    def _choose(self, i: int, s: Stmt, place):
        v = s.out
        end = self.end.get(id(v), i)
        fixed = self._fixed(v)
        if fixed is not None and not isinstance(fixed, Var):
            return fixed
        if place is not None and not isinstance(place, Var):
            return place
        if isinstance(fixed, Var):  # a carry: its buffer is reserved from here on
            return fixed
        if isinstance(place, Var):
            target = self.buffers[id(place)]
            if target.fits(i, end, i if _elementwise(s) else None):
                target.busy.append((i, end))
                return target.var
        if _elementwise(s):
            for o in s.args:
                found = self._dying(o, i, end, v)
                if found is not None:
                    return found
        for b in self.scratch:
            if b.var.shape == v.shape and b.var.dtype == v.dtype and b.fits(i, end):
                b.busy.append((i, end))
                return b.var
        buffer = _Buffer(Var(v.shape, v.dtype, f"tmp{len(self.scratch) + 1}", role="temp"),
                         [(i, end)])
        self.scratch.append(buffer)
        return buffer.var

    def _dying(self, o, i: int, end: int, v: Var):
        """The memory of operand ``o`` if it dies at statement ``i`` and fits ``v``."""
        if isinstance(o, At):
            if id(o.array) in self.consumable and (o.shape, o.dtype) == (v.shape, v.dtype):
                self.consumable.discard(id(o.array))  # read here only: overwrite it
                return o
            return None
        if isinstance(o, Carry):  # the previous step's value lives in the carry's buffer
            key = id(o.var)
        elif isinstance(o, Var) and self.owner(o) == id(o) and self.end.get(id(o)) == i:
            key = id(o)
        else:
            return None
        b = self.buffers.get(key)
        if b is None or (b.var.shape, b.var.dtype) != (v.shape, v.dtype) or not b.fits(
                i, end, i):
            return None
        b.busy.append((i, end))
        return b.var

    def _record(self, s: Stmt) -> None:
        """Remember the buffer now holding ``s``'s value (an operand may die into it)."""
        if isinstance(s.dest, Var):
            found = next((b for b in [*self.scratch, *self.buffers.values()]
                          if b.var is s.dest), None)
            if found is not None:
                self.buffers[id(s.out)] = found


def allocate(program) -> None:
    """Split every loop body into ufunc calls and give them destinations."""
    once = _read_once(program)
    defs = {id(s.out): s for item in program.body for s in (
        [*item.pre, *item.body, *item.post] if isinstance(item, Loop) else [item])
        if s.out is not None}
    for loop in program.body:
        if not isinstance(loop, Loop):
            continue
        split(loop)
        made = Allocation(loop, {id(s.out) for s in loop.pre if s.out is not None
                                 and _owns_memory(s.out, defs, once)}).run()
        if made:
            made[0].comment = "buffers reused by every step (the loop allocates nothing)"
        loop.pre += made
        loop.copy_carries = True  # carries are changed in place: start from copies


def _owns_memory(v: Var, defs: dict, once: set[int]) -> bool:
    """May the loop overwrite ``v`` (read once)? Only an array made here, or a view of one
    read only through the view (``m_all = product.reshape(...)``): never an argument's
    memory (``x[1:5]`` is the caller's input)."""
    while id(v) in once:
        stmt = defs.get(id(v))
        if stmt is None:  # an argument
            return False
        if fresh(stmt):
            return True
        if stmt.op.name not in VIEWS or not stmt.args or not isinstance(stmt.args[0], Var):
            return False
        v = stmt.args[0]
    return False


def _read_once(program) -> set[int]:
    count: dict[int, int] = {}
    for item in program.body:
        stmts = [*item.pre, *item.body, *item.post] if isinstance(item, Loop) else [item]
        for s in stmts:
            for v in reads(s):
                count[id(v)] = count.get(id(v), 0) + 1
    for g in [program.output, *program.grads]:
        for v in vars_in(g):
            count[id(v)] = count.get(id(v), 0) + 2
    return {k for k, n in count.items() if n == 1}
