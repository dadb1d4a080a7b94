"""Trailing stops keep the backtest's skip-ahead, and it still changes nothing.

* :func:`engine.core.triggers.trailing_band` is exactly the set of prices at which
  ``track`` leaves a trailing row as it is and the row does not fire — price by price
  around each edge, on bare rows;
* through the venue: a print inside ``tape_band`` (``tape_trade``) leaves the venue as
  ``tape_touch`` does, and the first print past a finite edge does not;
* backtests that keep trailing stops (sell and buy, activated and waiting for their
  activation price, callback 0.1–5 %, both working types) give the same report and
  ``state_hash`` with ``fast=True`` and ``fast=False``, and the fast one stops at few
  events;
* a GTD expiry inside a quiet stretch reaches the strategy when stepping delivers it;
* isolated positions on two symbols without marks keep their bands.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

np = pytest.importorskip("numpy")

from backtest_support import T0, marks_for, trades  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine import ClientError, Exchange  # noqa: E402
from engine.backtest import Strategy, run  # noqa: E402
from engine.core.enums import CONTRACT_PRICE  # noqa: E402
from engine.core.triggers import TriggerRegistry, trailing_band, trailing_fires  # noqa: E402

BTC, ETH = "BTCUSDT", "ETHUSDT"


# -- the band of one row, against track and trailing_fires ----------------------------------
def _changes(row: SimpleNamespace, price: int) -> bool:
    """Whether a print at ``price`` would change ``row`` or fire it: the registry's own
    ``track``, then ``trailing_fires``, on a copy."""
    copy = SimpleNamespace(**vars(row))
    registry = TriggerRegistry([])  # type: ignore[arg-type]
    registry._trailing[(BTC, CONTRACT_PRICE)] = {1: copy}  # type: ignore[dict-item]
    registry.track(BTC, CONTRACT_PRICE, price)
    return copy.extreme != row.extreme or trailing_fires(copy, price)  # type: ignore[arg-type]


def _inside(band: tuple[int | None, int | None], price: int) -> bool:
    lo, hi = band
    return (lo is None or lo <= price) and (hi is None or price <= hi)


bare_rows = st.builds(
    lambda rises, rate, activation, extreme: SimpleNamespace(
        rises=rises, rate=rate, activation=activation, extreme=extreme),
    st.booleans(), st.integers(1, 100),
    st.one_of(st.none(), st.integers(1, 400_000)),
    st.one_of(st.none(), st.integers(1, 400_000)),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(bare_rows, st.lists(st.integers(1, 400_000), max_size=8))
def test_the_band_of_a_row_is_exactly_the_prices_that_leave_it_as_it_is(row, extra):
    # Arrange: every price near each edge, near the row's own prices, and a few anywhere
    band = trailing_band(row)  # type: ignore[arg-type]
    near = [v for v in (*band, row.activation, row.extreme) if v is not None]
    prices = {p for v in near for p in range(v - 3, v + 4) if p >= 1} | set(extra)
    # Act / Assert: inside ⇔ nothing changes (sound and tight at once)
    for price in sorted(prices):
        assert _inside(band, price) == (not _changes(row, price)), (vars(row), band, price)


# -- the band through the venue: a print inside equals a touch, one outside does not ---------
venue_rows = st.lists(st.tuples(
    st.sampled_from(("BUY", "SELL")),
    st.integers(1, 100),  # callback rate, tenths of a percent
    st.one_of(st.none(), st.integers(1, 400)),  # activation ticks away, on the side to reach
    st.sampled_from(("CONTRACT_PRICE", "MARK_PRICE")),
), min_size=1, max_size=3)
walks = st.lists(st.integers(-400, 400), max_size=6)


def _venue(rows, walk) -> tuple[Exchange, list[int]]:
    """A taped venue whose last price is 30000.0, then ``rows`` of trailing entries
    (no position: nothing but the rows bounds the band), then prints ``walk`` ticks apart."""
    ex = Exchange()
    ex.create_account("a", balance="1000000")
    ex.enable_tape()
    price, t = 300_000, T0 + 1
    ex.tape_trade(BTC, price, 1, False, t)
    c = ex.client("a")
    ids = []
    for side, rate, ahead, wt in rows:
        params = dict(symbol=BTC, side=side, type="TRAILING_STOP_MARKET", quantity="0.010",
                      callbackRate=f"{rate // 10}.{rate % 10}", workingType=wt)
        if ahead is not None:
            act = price + ahead if side == "SELL" else price - ahead
            params["activationPrice"] = f"{act // 10}.{act % 10}"
        ids.append(c.new_order(**params)["orderId"])
    for step in walk:
        price, t = price + step, t + 1
        ex.tape_trade(BTC, price, 1, step < 0, t)
    return ex, ids


def _rows(ex: Exchange, ids: list[int]) -> list[tuple]:
    out = []
    for oid in ids:
        row = ex._s.index.by_id[oid]
        out.append((oid, row.status, row.extreme, row.triggered_id))
    return out


@settings(max_examples=150, deadline=None, derandomize=True)
@given(venue_rows, walks, st.lists(st.integers(-3_000, 3_000), max_size=4))
def test_a_print_inside_the_band_changes_only_the_last_price_and_the_edges_are_tight(
        rows, walk, offsets):
    # Arrange: probes at the edges, one past each, the middle, and around the last price
    ex, ids = _venue(rows, walk)
    lo, hi = ex.tape_band(BTC)
    last = ex._s.markets[BTC].last
    t = ex.now + 7
    probes = {last + d for d in offsets}
    if lo <= hi:
        probes |= {lo, hi, (lo + hi) // 2, lo - 1, hi + 1}
    for price in sorted(p for p in probes if 1 <= p < 1 << 62):
        stepped, _ = _venue(rows, walk)
        touched, _ = _venue(rows, walk)
        # Act
        stepped.tape_trade(BTC, price, 3, False, t)
        touched.tape_touch(BTC, price, t)
        # Assert: inside, the print is a touch and every row kept its state; outside
        # (any price, when some price is inside) some row acts — so the edges are tight
        same = stepped.state_hash() == touched.state_hash()
        if lo <= price <= hi:
            assert same, (price, lo, hi)
            assert _rows(stepped, ids) == _rows(ex, ids)
        elif lo <= hi:
            assert not same, (price, lo, hi)


def test_a_waiting_trailing_sell_bounds_the_band_below_its_activation_price():
    ex, _ = _venue([("SELL", 10, 50, "CONTRACT_PRICE")], [])
    assert ex.tape_band(BTC) == (1, 300_049)  # activates at 30005.0


def test_an_activated_trailing_buy_bounds_the_band_from_its_low_to_below_its_level():
    ex, _ = _venue([("BUY", 5, None, "CONTRACT_PRICE")], [-20])
    # low 299980; fires at ⌈299980 × 1.005⌉ = 301480
    assert ex.tape_band(BTC) == (299_980, 301_479)


def test_a_trailing_stop_on_the_mark_leaves_the_band_alone_once_the_mark_is_its_own():
    ex, _ = _venue([("SELL", 10, None, "MARK_PRICE")], [])
    assert ex.tape_band(BTC) == (297_001, 300_000)  # the mark is the last price
    ex.tape_mark(BTC, 300_000, ex.now + 1)
    assert ex.tape_band(BTC) == (1, 1 << 62)


# -- backtests: fast equals stepping, and skips ----------------------------------------------
class Trailer(Strategy):
    """Keeps one trailing stop on each symbol: at each bar where it has none, a seeded
    choice of side, callback rate, activation price (none, or some ticks on the side
    still to reach), working type, and either a MARKET entry with the stop reduce-only
    on it or the stop alone as an entry; one still there after three bars is cancelled
    and replaced."""

    def __init__(self, **params):
        super().__init__(**params)
        self.rng = random.Random(int(params.get("seed", 1)))
        self.sides = str(params.get("sides", "BUY,SELL")).split(",")
        self.rates = str(params.get("rates", "0.1,0.2,0.5,1.0")).split(",")
        self.activation = str(params.get("activation", "any"))  # none | ahead | any
        self.hold = str(params.get("hold", "any"))  # yes | no | any
        self.wts = str(params.get("wt", "CONTRACT_PRICE,MARK_PRICE")).split(",")
        self.held: dict[str, int] = {}
        self.age: dict[str, int] = {}
        self.stats = {"placed": 0, "triggered": 0, "updates": 0}
        self.updates: list[tuple] = []

    def on_bar(self, bar):
        symbol = bar.symbol
        self.age[symbol] = self.age.get(symbol, 0) + 1
        if symbol in self.held and self.age[symbol] > 3:  # a stale one: replace it
            try:
                self.client.cancel_order(symbol=symbol, orderId=self.held.pop(symbol))
            except ClientError as e:
                self.stats[f"error_{e.error_code}"] = self.stats.get(f"error_{e.error_code}", 0) + 1
        if symbol not in self.held:
            self.age[symbol] = 0
            self.place(symbol, bar.close)

    def on_order_update(self, order):
        self.stats["updates"] += 1
        self.updates.append((order["orderId"], order["status"], order["type"],
                             order["executedQty"], order["updateTime"]))
        symbol = order["symbol"]
        if self.held.get(symbol) == order["orderId"] and order["status"] != "NEW":
            del self.held[symbol]
            if order["status"] == "TRIGGERED":
                self.stats["triggered"] += 1

    def place(self, symbol: str, last: int) -> None:
        rng, c, inst = self.rng, self.client, self.instruments[symbol]
        side = rng.choice(self.sides)
        params = {"symbol": symbol, "side": side, "type": "TRAILING_STOP_MARKET",
                  "quantity": "0.010", "callbackRate": rng.choice(self.rates),
                  "workingType": rng.choice(self.wts)}
        if self.activation == "ahead" or (self.activation == "any" and rng.random() < 0.5):
            ahead = rng.randint(1, 120)
            params["activationPrice"] = inst.price_str(last + ahead if side == "SELL"
                                                       else last - ahead)
        hold = self.hold == "yes" or (self.hold == "any" and rng.random() < 0.5)
        try:
            if hold:
                c.new_order(symbol=symbol, side="BUY" if side == "SELL" else "SELL",
                            type="MARKET", quantity="0.010")
                params["reduceOnly"] = "true"
            self.held[symbol] = c.new_order(**params)["orderId"]
            self.stats["placed"] += 1
        except ClientError as e:
            key = f"error_{e.error_code}"
            self.stats[key] = self.stats.get(key, 0) + 1


def both(streams, strategy, **kw):
    fast_strategy, slow_strategy = strategy(), strategy()
    fast = run(streams, fast_strategy, fast=True, **kw)
    slow = run(streams, slow_strategy, fast=False, **kw)
    fast.exchange.check_invariants()
    return fast, slow, fast_strategy, slow_strategy


BT = trades(40_000, 21, step=20)
ET = trades(30_000, 22, symbol=ETH, start=230_000, step=20)
CASES = {
    "sells, activated at once": ([BT], {"sides": "SELL", "activation": "none"}),
    "buys, activated at once": ([BT], {"sides": "BUY", "activation": "none"}),
    "sells waiting for activation": ([BT], {"sides": "SELL", "activation": "ahead",
                                            "rates": "0.1"}),
    "buys waiting for activation": ([BT], {"sides": "BUY", "activation": "ahead",
                                           "rates": "0.1"}),
    "all kinds, tight callbacks": ([BT], {"rates": "0.1,0.2"}),
    "all kinds, wide callbacks, entries": ([BT], {"rates": "0.5,1.0", "hold": "no"}),
    "with marks": ([BT, marks_for(BT, 3)], {}),
    "two symbols, one marked": ([BT, ET, marks_for(ET, 4)], {}),
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_a_backtest_keeping_trailing_stops_gives_the_same_report_fast_and_stepped(case, seed):
    # Arrange
    streams, extra = CASES[case]

    def strategy():
        return Trailer(seed=seed, **extra)

    # Act
    fast, slow, fs, ss = both(streams, strategy, balance="100000")
    # Assert: the same report, state and callbacks, and the scan did skip
    assert fast.to_json() == slow.to_json()
    assert fast.state_hash == slow.state_hash
    assert fs.updates == ss.updates
    assert fs.stats["placed"] > 0 and fs.stats["triggered"] > 0, fs.stats
    assert fast.stats["stops"] * 5 < slow.stats["stops"] == slow.stats["events"]


class HoldOne(Strategy):
    """At its first bar: buys 0.010 and (``trailing``) protects it with a trailing sell."""

    def __init__(self, **params):
        super().__init__(**params)
        self.trailing = str(params.get("trailing", "1")) == "1"
        self.rate = str(params.get("rate", "1.0"))
        self.done = False

    def on_bar(self, bar):
        if self.done:
            return
        self.done = True
        c = self.client
        c.new_order(symbol=bar.symbol, side="BUY", type="MARKET", quantity="0.010")
        if self.trailing:
            c.new_order(symbol=bar.symbol, side="SELL", type="TRAILING_STOP_MARKET",
                        quantity="0.010", callbackRate=self.rate, reduceOnly="true")


def test_a_held_trailing_stop_lets_the_replay_skip_almost_every_print():
    # Arrange: 200k prints (about an hour); the stop is activated from its first bar
    tr = trades(200_000, 5)
    # Act
    report = run([tr], HoldOne, params={"trailing": "1", "rate": "1.0"})
    # Assert: stops are time stops and the stop's new highs, a few per thousand prints
    orders = report.exchange.client("strategy").get_all_orders(symbol=BTC)
    assert [o["type"] for o in orders] == ["MARKET", "TRAILING_STOP_MARKET"]
    assert report.stats["events"] == 200_000
    assert report.stats["stops"] < report.stats["events"] // 20


# -- GTD expiries fall due inside skipped stretches ------------------------------------------
class Gtd(Strategy):
    """A far GTD bid at the first bar; when it expires, a GTC bid in its place."""

    def __init__(self, **params):
        super().__init__(**params)
        self.placed = False
        self.updates: list[tuple] = []

    def on_bar(self, bar):
        if not self.placed:
            self.placed = True
            self.client.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD",
                                  quantity="0.010", price="29500",
                                  goodTillDate=bar.close_time + 1 + 700_000)

    def on_order_update(self, order):
        self.updates.append((order["orderId"], order["status"], order["updateTime"],
                             self.client.time()["serverTime"]))
        if order["status"] == "EXPIRED":
            self.client.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.010", price="29500")


def test_a_gtd_expiry_inside_a_quiet_stretch_reaches_the_strategy_when_stepping_delivers_it():
    # Arrange
    tr = trades(60_000, 5)
    fast_s, slow_s = Gtd(), Gtd()
    # Act
    fast = run([tr], fast_s, fast=True)
    slow = run([tr], slow_s, fast=False)
    # Assert: the expiry is delivered after the first print at or after the goodTillDate,
    # and the bid that replaces it is placed then, in both replays
    expired = [u for u in slow_s.updates if u[1] == "EXPIRED"]
    assert len(expired) == 1
    gtd = expired[0][2]
    assert expired[0][3] == int(tr.time[np.searchsorted(tr.time, gtd, "left")])
    assert fast_s.updates == slow_s.updates
    assert fast.to_json() == slow.to_json()
    assert fast.stats["stops"] < 100


def test_the_next_deadline_is_the_earliest_countdown_or_expiry():
    from engine.venue.tapeloop import next_deadline

    ex = Exchange()
    ex.create_account("a", balance="1000")
    ex.set_mark_price(BTC, "30000")
    c = ex.client("a")
    assert next_deadline(ex) is None
    gtd = ex.now + 900_000
    c.new_order(symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTD", quantity="0.010",
                price="29500", goodTillDate=gtd)
    assert next_deadline(ex) == gtd
    c.countdown_cancel_order(symbol=BTC, countdownTime=5_000)
    assert next_deadline(ex) == ex.now + 5_000
    c.countdown_cancel_order(symbol=BTC, countdownTime=0)
    assert next_deadline(ex) == gtd


# -- isolated margin keeps bands on symbols without marks ----------------------------------
class IsolatedPair(Strategy):
    """Isolated BTCUSDT and ETHUSDT, long 0.010 BTC and short 0.1 ETH from their first bars."""

    def __init__(self, **params):
        super().__init__(**params)
        self.margin = str(params.get("margin", "ISOLATED"))
        self.done: set[str] = set()

    def on_start(self):
        for symbol in (BTC, ETH):
            if self.margin == "ISOLATED":
                self.client.change_margin_type(symbol=symbol, marginType="ISOLATED")

    def on_bar(self, bar):
        if bar.symbol in self.done:
            return
        self.done.add(bar.symbol)
        side, qty = ("BUY", "0.010") if bar.symbol == BTC else ("SELL", "0.100")
        self.client.new_order(symbol=bar.symbol, side=side, type="MARKET", quantity=qty)


@pytest.mark.parametrize("margin", ["ISOLATED", "CROSSED"])
def test_isolated_positions_on_two_symbols_without_marks_keep_their_bands(margin):
    # Arrange: prints of both symbols, no mark data
    streams = [trades(20_000, 31, step=3), trades(20_000, 32, symbol=ETH, start=230_000, step=2)]
    # Act
    fast, slow, _fs, _ss = both(streams, lambda: IsolatedPair(margin=margin), leverage=10)
    # Assert: the same either way; only cross margin steps every print once both are held
    assert fast.to_json() == slow.to_json()
    assert fast.state_hash == slow.state_hash
    if margin == "ISOLATED":
        assert fast.stats["stops"] < fast.stats["events"] // 20
    else:
        assert fast.stats["stops"] > fast.stats["events"] // 2
