from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from engine.testing import ACCOUNTS, OPEN, SYMBOLS, VenueMachine, ci_settings


class MyMachine(VenueMachine):
    @rule(caller=st.sampled_from(ACCOUNTS), symbol=st.sampled_from(SYMBOLS))
    def cancel_all_twice(self, caller, symbol):
        """A second cancel-all finds nothing left and changes nothing."""
        cancelled = self.open_of(caller, symbol)
        self.step(lambda: self.call(caller, "cancel_open_orders", symbol=symbol), cancelled)
        before = self.ex.state_hash()
        self.call(caller, "cancel_open_orders", symbol=symbol)
        assert self.ex.state_hash() == before

    @invariant()
    def open_rows_protect_a_live_parent(self):
        """An untriggered TP/SL row's parent is still open, or has filled (it is ARMED)."""
        for oid in self.model.open_ids:
            row = self.model.orders[oid]
            if row.is_row and row.parent is not None:
                parent = self.model.orders[row.parent]
                assert parent.status in OPEN or parent.executed != "0", (oid, parent)


TestMyMachine = MyMachine.TestCase
TestMyMachine.settings = ci_settings(max_examples=50)
